//! The merged log viewer's machinery, apart from the page that shows it: pure data structures
//! and functions (unit-tested natively), plus, in the browser only, the streaming reader.
//!
//! - [`store`]: the events, compact (a text arena and 32-byte records).
//! - [`viewer`]: filters, the visible rows, the layout, search and exceptions over the store.
//! - [`layout`]: row heights, prefix sums, and which rows a scroll position shows.
//! - [`search`]: matching text, and the search that runs in slices.
//! - [`exceptions`]: Java and Python stack traces, grouped.
//! - [`ansi`]: colour escapes into styled runs.
//! - [`render`]: one row as plain data (time, label, styled and marked pieces).
//! - [`colour`]: the classes sources, levels and ANSI colours paint with.
//! - [`ndjson`]: lines out of a chunked byte stream.
//! - `fetch` (browser only): `fetch()` with a streaming body reader.

pub mod ansi;
pub mod colour;
pub mod exceptions;
#[cfg(feature = "hydrate")]
pub mod fetch;
pub mod layout;
pub mod ndjson;
pub mod render;
pub mod search;
pub mod store;
pub mod viewer;
