//! `fetch()` with a streaming body: NDJSON is read chunk by chunk as it arrives, so a long log
//! shows its first lines at once and a followed log stays open. Browser only.

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader, RequestInit, Response};

/// Why a request ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The server answered with an error: its status and message.
    Status { status: u16, message: String },
    /// The connection failed or broke off.
    Network(String),
    /// We aborted it.
    Aborted,
}

/// Work between two turns the page gets to draw and handle input, in milliseconds.
const SLICE_MS: f64 = 40.0;

/// GETs `url` and hands each body chunk to `on_chunk` as it arrives; `Ok` once the body ends.
/// A body that arrives faster than it is handled would never let the page draw (a read that is
/// ready resolves at once), so every [`SLICE_MS`] the loop waits for the event loop's next turn.
pub async fn stream(url: &str, signal: &AbortSignal, mut on_chunk: impl FnMut(Vec<u8>)) -> Result<(), FetchError> {
    let failed = |e: JsValue| if signal.aborted() { FetchError::Aborted } else { FetchError::Network(describe(&e)) };
    let window = web_sys::window().ok_or_else(|| FetchError::Network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_signal(Some(signal));
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(failed)?;
    let response: Response = response.dyn_into().map_err(failed)?;
    if !response.ok() {
        let message = match response.text() {
            Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Err(FetchError::Status { status: response.status(), message: plain_message(&message) });
    }
    let body = response.body().ok_or_else(|| FetchError::Network("the response has no body".into()))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut slice_start = now_ms();
    loop {
        let result = JsFuture::from(reader.read()).await.map_err(failed)?;
        if Reflect::get(&result, &JsValue::from_str("done")).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            return Ok(());
        }
        let value = Reflect::get(&result, &JsValue::from_str("value")).map_err(failed)?;
        on_chunk(Uint8Array::new(&value).to_vec());
        if now_ms() - slice_start > SLICE_MS {
            next_tick().await;
            slice_start = now_ms();
        }
        if signal.aborted() {
            let _ = reader.cancel();
            return Err(FetchError::Aborted);
        }
    }
}

/// An error body fit to show: a page of HTML (a proxy's, say) says nothing readable, and a long
/// body is cut.
fn plain_message(body: &str) -> String {
    let body = body.trim();
    if body.starts_with('<') {
        return String::new();
    }
    // The API's errors are `{"error": "..."}`.
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body)
        && let Some(serde_json::Value::String(message)) = map.get("error")
    {
        return message.clone();
    }
    match body.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// Waits for the next turn of the event loop (a macrotask), so the browser can draw and
/// handle input between slices of work.
pub async fn next_tick() {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds on the page's monotonic clock.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// GETs `url` and reads its body as JSON (the metrics page's requests).
pub async fn json<T: serde::de::DeserializeOwned>(url: &str, signal: &AbortSignal) -> Result<T, FetchError> {
    let mut body = Vec::new();
    stream(url, signal, |chunk| body.extend_from_slice(&chunk)).await?;
    serde_json::from_slice(&body).map_err(|e| FetchError::Network(format!("the answer is not what was expected: {e}")))
}
