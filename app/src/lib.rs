//! sparkboard's web application: the pages (server-rendered, then hydrated in the browser) and
//! the wire types the server and the browser share.
//!
//! - [`api`]: the JSON wire types (`Job`, `JobList`, `JobDetail`, `LogEvent`), the API's contract.
//! - [`query`]: the jobs list's filters, sort and page, as URL query strings.
//! - [`log_query`]: the merged log's filters (sources, levels, text, time span, follow).
//! - [`logs`]: the log viewer's machinery: compact store, filters, layout, search, exceptions.
//! - [`routes`]: the route table and one module per page.
//! - [`format`]: how times, durations and states read on screen.
//! - `live` (browser only): the server-push subscription that keeps pages current.
//! - [`ssr`] (server only): the handles the server provides to pages through context.
//!
//! The crate is an `rlib` with `ssr` for the server and a `cdylib` with `hydrate` for the
//! browser (built by cargo-leptos), so a page is written once for both sides.

pub mod api;
pub mod format;
#[cfg(feature = "hydrate")]
mod live;
pub mod log_query;
pub mod logs;
pub mod metrics;
pub mod query;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use routes::{App, shell};

/// The browser's entry point: attach the reactive app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
