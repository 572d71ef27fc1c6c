//! The metrics page's data, shaped for drawing: [`summary`] folds many executors into a few
//! lines (the API does it on request, so the browser gets kilobytes, not megabytes), [`chart`]
//! turns the answer into the charts' tables. Pure. Only the server summarises, so the browser
//! bundle leaves [`summary`] out.

pub mod chart;
pub mod executors;
#[cfg(feature = "ssr")]
pub mod summary;
#[cfg(test)]
mod test_support;

/// The median of sorted, non-empty `values`.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}
