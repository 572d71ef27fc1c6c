//! The browser's side of the log page: the address bar, local storage, the clipboard, and
//! regular expressions in the browser's own engine. Browser only.

use crate::logs::search::{Matcher, Needle, Plain, Utf16Offsets};
use js_sys::{Array, Function, Reflect, RegExp};
use std::ops::Range;
use wasm_bindgen::{JsCast, JsValue};

/// Replaces the address's query string, keeping path and fragment (no history entry).
pub fn set_query(qs: &str) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let path = location.pathname().unwrap_or_default();
    let hash = location.hash().unwrap_or_default();
    let current = location.search().unwrap_or_default();
    let wanted = if qs.is_empty() { String::new() } else { format!("?{qs}") };
    if current == wanted {
        return;
    }
    replace(&format!("{path}{wanted}{hash}"));
}

/// Replaces the address's fragment (`""` removes it).
pub fn set_hash(fragment: &str) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    let hash = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
    replace(&format!("{path}{search}{hash}"));
}

fn replace(url: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        // Keep the router's state object: it reads it on back and forward.
        let state = history.state().unwrap_or(JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(url));
    }
}

/// The address's fragment, without `#`, decoded.
pub fn hash() -> String {
    let raw = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    crate::query::decode(raw.trim_start_matches('#'))
}

/// The page's full address.
pub fn href() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

pub fn stored(key: &str) -> Option<String> {
    web_sys::window()?.local_storage().ok()??.get_item(key).ok()?
}

pub fn store(key: &str, value: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(key, value);
    }
}

/// Copies `text`; the future says whether it worked.
pub async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// The matcher for what the search box holds: plain text, or a `RegExp` (an error says why a
/// pattern does not compile).
pub fn matcher(needle: &Needle) -> Result<Box<dyn Matcher>, String> {
    if !needle.regex {
        return Ok(Box::new(Plain::new(&needle.text, needle.case_sensitive)));
    }
    let flags = if needle.case_sensitive { "m" } else { "im" };
    Ok(Box::new(JsRegex { find: regexp(&needle.text, &format!("g{flags}"))?, test: regexp(&needle.text, flags)? }))
}

/// `new RegExp(pattern, flags)`, with the exception a bad pattern throws as an error.
fn regexp(pattern: &str, flags: &str) -> Result<RegExp, String> {
    let constructor: Function = Reflect::get(&js_sys::global(), &JsValue::from_str("RegExp"))
        .map_err(|_| "this browser has no RegExp".to_string())?
        .unchecked_into();
    let args = Array::of2(&JsValue::from_str(pattern), &JsValue::from_str(flags));
    match Reflect::construct(&constructor, &args) {
        Ok(re) => Ok(re.unchecked_into()),
        Err(e) => Err(e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "invalid pattern".into())),
    }
}

struct JsRegex {
    /// With `g`, for every match of a row.
    find: RegExp,
    /// Without, for whether an event matches at all.
    test: RegExp,
}

impl Matcher for JsRegex {
    fn find(&self, text: &str, out: &mut Vec<Range<usize>>) {
        self.find.set_last_index(0);
        let mut offsets = Utf16Offsets::new(text);
        // A row's marks, not a denial of service: a pattern that matches everywhere stops here.
        for _ in 0..10_000 {
            let Some(m) = self.find.exec(text) else { break };
            let matched = m.get(0).as_string().unwrap_or_default();
            if matched.is_empty() {
                self.find.set_last_index(self.find.last_index() + 1);
                continue;
            }
            let index = Reflect::get(&m, &JsValue::from_str("index")).ok().and_then(|i| i.as_f64()).unwrap_or(0.0) as usize;
            let start = offsets.byte(index);
            out.push(start..(start + matched.len()).min(text.len()));
        }
    }

    fn is_match(&self, text: &str) -> bool {
        self.test.test(text)
    }
}
