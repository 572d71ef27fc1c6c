//! The Leptos pages, server-rendered with the model in context, and the static site (wasm, js,
//! css, public/) embedded in the binary so that one file runs from any directory.

use crate::access::{Caller, visible_job, visible_jobs};
use crate::model::pod::JobKey;
use crate::state::AppState;
use app::api::{JobDetail, JobList};
use app::query::JobQuery;
use app::ssr::{JobDirectory, Jobs};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use leptos::prelude::{LeptosOptions, provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The built site (`cargo leptos build` output). Release builds embed it; debug builds read it
/// from disk, so `cargo leptos watch` serves fresh files.
#[derive(rust_embed::Embed)]
#[folder = "../target/site"]
#[allow_missing = true]
struct Site;

/// The model and archive as one request's caller sees them: every read goes through `access`.
struct Directory {
    state: AppState,
    caller: Caller,
}

impl JobDirectory for Directory {
    fn jobs(&self, query: &JobQuery) -> JobList {
        visible_jobs(&self.state, &self.caller, query)
    }

    fn job(&self, namespace: String, name: String) -> Pin<Box<dyn Future<Output = Option<JobDetail>> + Send>> {
        let (state, caller) = (self.state.clone(), self.caller.clone());
        Box::pin(async move { visible_job(&state, &caller, &JobKey { namespace, name }).await })
    }
}

/// The pages' view of jobs for the request being rendered or answered. leptos_axum puts the
/// request's head in context before it calls this; without it nothing is visible (fail closed).
fn provide_directory(state: &AppState) {
    let caller = use_context::<http::request::Parts>().map_or_else(Caller::nobody, |parts| state.access.caller(&parts));
    provide_context(Jobs(Arc::new(Directory { state: state.clone(), caller })));
}

/// Pages, server functions, and the static files as the fallback.
pub fn routes(state: AppState, options: LeptosOptions) -> Router {
    let context = move || provide_directory(&state);
    let server_fns = {
        let context = context.clone();
        move |request: Request| handle_server_fns_with_context(context.clone(), request)
    };
    let not_found = leptos_axum::render_app_to_stream_with_context(context.clone(), {
        let options = options.clone();
        move || shell(options.clone())
    });
    Router::new()
        .route("/_fn/{*name}", any(server_fns))
        .leptos_routes_with_context(&options, generate_route_list(App), context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(move |request: Request| {
            let not_found = not_found.clone();
            async move {
                match static_file(request.uri().path(), request.headers()) {
                    Some(response) => response,
                    None => not_found(request).await.into_response(),
                }
            }
        })
        .with_state(options)
}

/// A file of the built site, precompressed when the client accepts it, with an ETag.
fn static_file(path: &str, headers: &HeaderMap) -> Option<Response> {
    let path = path.trim_start_matches('/');
    if path.is_empty() || path.ends_with(".br") || path.ends_with(".gz") {
        return None;
    }
    let file = Site::get(path).or_else(|| Site::get(&legacy_wasm_name(path)?))?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Some(StatusCode::NOT_MODIFIED.into_response());
    }
    let accepts = |encoding: &str| super::json_body::accepts(headers, encoding);
    let (body, encoding) = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(encoding, _)| accepts(encoding))
        .find_map(|(encoding, suffix)| Site::get(&format!("{path}{suffix}")).map(|f| (f.data, Some(encoding))))
        .unwrap_or((file.data, None));
    let mut response = Response::new(Body::from(body.into_owned()));
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    Some(response)
}

/// cargo-leptos names the bundle `{output}.wasm`, but the leptos crate's hydration script asks
/// for `{output}_bg.wasm` when it was compiled without cargo-leptos's `LEPTOS_OUTPUT_NAME` (a
/// plain `cargo test`, say). Answering both keeps the binary right whoever compiled it.
fn legacy_wasm_name(path: &str) -> Option<String> {
    path.strip_suffix("_bg.wasm").map(|stem| format!("{stem}.wasm"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
