//! Server push in the browser: an `EventSource` on one of the server's streams.
//!
//! `EventSource` reconnects by itself after a dropped connection; the server answers every new
//! connection with the whole current view, so the page converges without a reload.

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};

/// The message, open and error handlers: kept alive as long as the stream is.
type Handlers = (Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut()>, Closure<dyn FnMut()>);

/// An open stream; dropping it closes the connection (a page that changes its query opens a
/// new one and drops the old).
pub struct Subscription {
    source: EventSource,
    _handlers: Handlers,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens the stream at `url`. `on_message` gets every message that parses as `T`; `on_status`
/// hears `true` when the stream is open and `false` while it reconnects.
pub fn subscribe<T: DeserializeOwned + 'static>(
    url: &str,
    on_message: impl Fn(T) + 'static,
    on_status: impl Fn(bool) + 'static,
) -> Option<Subscription> {
    let Ok(source) = EventSource::new(url) else {
        on_status(false);
        return None;
    };
    let on_status = std::rc::Rc::new(on_status);
    let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(text) = event.data().as_string() else { return };
        match serde_json::from_str::<T>(&text) {
            Ok(value) => on_message(value),
            Err(e) => leptos::logging::warn!("ignoring a stream message that does not parse: {e}"),
        }
    });
    let opened = on_status.clone();
    let open = Closure::<dyn FnMut()>::new(move || opened(true));
    let error = Closure::<dyn FnMut()>::new(move || on_status(false));
    source.set_onmessage(Some(message.as_ref().unchecked_ref()));
    source.set_onopen(Some(open.as_ref().unchecked_ref()));
    source.set_onerror(Some(error.as_ref().unchecked_ref()));
    Some(Subscription { source, _handlers: (message, open, error) })
}
