//! The metrics page's data, shaped for drawing: [`summary`] folds many executors into a few
//! lines (the API does it on request, so the browser gets kilobytes, not megabytes), [`chart`]
//! turns the answer into the charts' tables. Pure, on both sides.

pub mod chart;
pub mod executors;
pub mod summary;
#[cfg(test)]
mod test_support;
