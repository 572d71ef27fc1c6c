//! Server push in the browser: an `EventSource` on the jobs stream.
//!
//! `EventSource` reconnects by itself after a dropped connection; the server answers every new
//! connection with a snapshot, so the page converges without a reload.

use crate::api::JobChange;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};

/// The live jobs stream's path.
const JOBS_STREAM: &str = "/api/v1/jobs/stream";

/// Opens the jobs stream for the life of the page. `on_change` gets every message that parses;
/// `on_status` hears `true` when the stream is open and `false` while it reconnects.
pub fn subscribe_jobs(on_change: impl Fn(JobChange) + 'static, on_status: impl Fn(bool) + 'static) {
    let Ok(source) = EventSource::new(JOBS_STREAM) else {
        on_status(false);
        return;
    };
    let on_status = std::rc::Rc::new(on_status);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(text) = event.data().as_string() else { return };
        match serde_json::from_str::<JobChange>(&text) {
            Ok(change) => on_change(change),
            Err(e) => leptos::logging::warn!("ignoring a jobs stream message that does not parse: {e}"),
        }
    });
    let opened = on_status.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || opened(true));
    let on_error = Closure::<dyn FnMut()>::new(move || on_status(false));
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The page owns the subscription until it unloads; the browser closes it then.
    on_message.forget();
    on_open.forget();
    on_error.forget();
}
