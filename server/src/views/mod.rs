//! Views: everything that answers HTTP. They read the model (and, for archived jobs' records,
//! the archive) through [`crate::access`], which decides what the caller may see, and never
//! reach past them to Kubernetes.
//!
//! - [`api`]: the JSON API (`/api/v1/...`) and operations endpoints.
//! - [`logs`]: a job's merged log, streamed (NDJSON or text).
//! - [`metrics`]: a job's container metrics (JSON).
//! - [`stream`]: server push of a list page or a job (SSE).
//! - [`site`]: the Leptos pages (SSR + hydrate) and the embedded static site.
//! - [`deep_links`]: `/apps/...` and `/airflow/...` redirects.
//! - [`json_body`]: JSON answers, gzip'ed for clients that take it.

#![warn(missing_docs)]

pub mod api;
pub mod deep_links;
pub mod json_body;
pub mod logs;
pub mod metrics;
pub mod site;
pub mod stream;

use crate::state::AppState;
use axum::Router;

/// The dashboard's listener, with Nagle's algorithm off: a response streamed in pieces (a
/// proxied Spark page, a live stream) must not wait 40 ms for the client's delayed ACK between
/// them.
pub fn listener(listener: tokio::net::TcpListener) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(tcp: &mut tokio::net::TcpStream) {
        let _ = tcp.set_nodelay(true);
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// The dashboard's whole HTTP surface.
pub fn router(state: AppState, leptos: leptos::prelude::LeptosOptions) -> Router {
    let pages = site::routes(state.clone(), leptos).layer(axum::middleware::from_fn_with_state(state.clone(), deep_links::redirect));
    Router::new()
        .merge(api::routes())
        .merge(logs::routes())
        .merge(metrics::routes())
        .merge(stream::routes())
        .merge(crate::ui_proxy::routes())
        .with_state(state)
        .merge(pages)
}
