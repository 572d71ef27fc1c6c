//! Views: everything that answers HTTP. They read the model and never reach past it to
//! Kubernetes.
//!
//! - [`api`]: the JSON API (`/api/v1/...`) and operations endpoints.
//! - [`stream`]: server push of job changes (SSE).
//! - [`site`]: the Leptos pages (SSR + hydrate) and the embedded static site.
//! - [`access`]: the one place every route asks whether the caller may see a namespace.

pub mod access;
pub mod api;
pub mod deep_links;
pub mod site;
pub mod stream;

use crate::model::JobModel;
use axum::Router;
use std::sync::Arc;

/// What every view handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub model: Arc<JobModel>,
}

/// The dashboard's whole HTTP surface.
pub fn router(state: AppState, leptos: leptos::prelude::LeptosOptions) -> Router {
    let pages = site::routes(state.clone(), leptos).layer(axum::middleware::from_fn_with_state(state.clone(), deep_links::redirect));
    Router::new().merge(api::routes()).merge(stream::routes()).with_state(state).merge(pages)
}
