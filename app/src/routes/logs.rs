//! `/jobs/{namespace}/{name}/logs`: the job's merged log (driver, executors, controller) in one
//! time-ordered, virtualised list that stays smooth at a million lines.
//!
//! The server renders the shell (title, job link, toolbar with the URL's filters); everything
//! else happens in the browser after hydration: the log streams in as NDJSON and is parsed line
//! by line into a compact store (`crate::logs`). Filters, search and the view's switches work on
//! that store, instantly, and the URL keeps the filters (`source`, `level`, `q`/`re`) so a view
//! can be shared; the time span (`since`, `until`) is asked of the server. `#L<id>` links one
//! line.
//!
//! Parts: [`state`] (the shared state and every change to it), [`list`] (the virtual list),
//! [`toolbar`] (search, switches, levels, notices), [`sidebar`] (sources, exceptions), and in
//! the browser only `loader` (the streaming request) and `browser` (address bar, storage,
//! clipboard, `RegExp`).

#[cfg(feature = "hydrate")]
mod browser;
mod list;
#[cfg(feature = "hydrate")]
mod loader;
mod sidebar;
mod state;
mod toolbar;

use super::job::job_subpage;
use crate::api::Job;
use crate::format;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use state::{Logs, UrlState};

#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    job_subpage("Logs", move |detail| {
        let url = UrlState::parse(&query.with_untracked(|m| m.to_query_string()));
        view! { <LogsView job=detail.job url/> }.into_any()
    })
}

#[component]
fn LogsView(job: Job, url: UrlState) -> impl IntoView {
    // A running (or starting) job is followed unless the link says otherwise.
    let follow = if url.follow_given { url.query.follow } else { !job.state.is_terminal() };
    let logs = Logs::new(job.namespace.clone(), job.name.clone(), !job.state.is_terminal(), &url, follow);
    // The job's state, kept current by its stream while the page is open.
    let job_state = RwSignal::new(job.state);
    #[cfg(feature = "hydrate")]
    {
        wire_up(logs);
        let subscription = StoredValue::new_local(None::<crate::live::Subscription>);
        Effect::new(move |_| {
            let url = format!("/api/v1{}/stream", logs.job_path());
            let on_detail = move |detail: Option<crate::api::JobDetail>| {
                if let Some(detail) = detail {
                    logs.running.set_value(!detail.job.state.is_terminal());
                    job_state.set(detail.job.state);
                }
            };
            subscription.set_value(crate::live::subscribe(&url, on_detail, |_| {}));
        });
        on_cleanup(move || subscription.set_value(None));
    }
    view! {
        <div class="flex flex-col gap-2" data-testid="logs">
            <header class="flex flex-wrap items-center gap-3">
                <a class="text-blue-700 hover:underline" href=logs.job_path() data-testid="job-link">{format!("← {}", job.name)}</a>
                <h1 class="text-xl font-semibold">"Logs"</h1>
                <span class=move || format!("rounded px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", format::state_badge_class(job_state.get()))
                      data-testid="state">{move || job_state.get().as_str()}</span>
                <span class="text-sm text-gray-600">{format!("namespace {}", job.namespace)}</span>
                <toolbar::StatusLine logs/>
            </header>
            <div class="flex flex-wrap items-center justify-between gap-2 rounded border border-gray-200 bg-white p-2">
                <toolbar::SearchBar logs/>
                <toolbar::ViewBar logs/>
            </div>
            <div class="flex flex-wrap items-center gap-2">
                <toolbar::LevelFilter logs/>
                <toolbar::SpanPicker logs/>
            </div>
            <toolbar::Notices logs url_error=url.error.clone()/>
            <div class="flex h-[calc(100vh-15rem)] min-h-96 gap-3">
                <aside class="w-72 shrink-0 overflow-y-auto rounded border border-gray-200 bg-white p-2">
                    <sidebar::Sources logs/>
                    <sidebar::Exceptions logs/>
                </aside>
                <section class="min-w-0 flex-1">
                    <list::LogList logs/>
                </section>
            </div>
            // Measures a monospace character for wrapping.
            <span class="invisible absolute font-mono text-xs" aria-hidden="true" data-probe="ch">"0000000000"</span>
        </div>
    }
    .into_any()
}

/// The browser's side: preferences, measuring, the address bar, keyboard, and loading.
#[cfg(feature = "hydrate")]
fn wire_up(logs: Logs) {
    use leptos::ev;
    use wasm_bindgen::JsCast;

    let measure = move || {
        if let Some(el) = logs.container.get_untracked() {
            logs.viewport.set((f64::from(el.client_width()), f64::from(el.client_height())));
        }
        let probe = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector("[data-probe=ch]").ok().flatten());
        if let Some(probe) = probe {
            let width = probe.get_bounding_client_rect().width() / 10.0;
            if width > 0.0 {
                logs.char_px.set(width);
            }
        }
    };
    // Once, after hydration: stored choices, sizes, the permalink, then the log.
    Effect::new(move |_| {
        if let Some(utc) = browser::stored("sparkboard.logs.utc") {
            logs.utc.set(utc != "false");
        }
        if let Some(wrap) = browser::stored("sparkboard.logs.wrap") {
            logs.wrap.set(wrap == "true");
        }
        measure();
        loader::target_from_address(logs);
        loader::start(logs, logs.follow.get_untracked());
        loader::pump_search(logs);
    });
    let resize = window_event_listener(ev::resize, move |_| measure());
    // "/" focuses the search box.
    let keys = window_event_listener(ev::keydown, move |e: ev::KeyboardEvent| {
        let typing = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable"));
        if e.key() == "/" && !typing && !e.ctrl_key() && !e.meta_key() {
            e.prevent_default();
            if let Some(input) = logs.search_input.get_untracked() {
                let _ = input.focus();
            }
        }
    });
    on_cleanup(move || {
        resize.remove();
        keys.remove();
        loader::stop();
    });
    // Follow switched: restart the stream (following, or fetching the rest and stopping).
    Effect::new(move |previous: Option<bool>| {
        let follow = logs.follow.get();
        if previous.is_some_and(|p| p != follow) {
            logs.stick.set(follow && logs.selected.get_untracked().is_none());
            loader::start(logs, follow);
        }
        follow
    });
    // The view's shape follows the switches and the width.
    Effect::new(move |_| {
        logs.wrap.track();
        logs.expand_all.track();
        logs.viewport.track();
        logs.char_px.track();
        let shape = logs.shape();
        if logs.viewer.with_value(|v| v.shape()) != shape {
            logs.set_shape(shape);
        }
    });
    // The address keeps the filters and search; storage keeps the time zone and wrapping.
    Effect::new(move |_| browser::set_query(&logs.page_query_string()));
    Effect::new(move |previous: Option<()>| {
        let (utc, wrap) = (logs.utc.get(), logs.wrap.get());
        if previous.is_some() {
            browser::store("sparkboard.logs.utc", &utc.to_string());
            browser::store("sparkboard.logs.wrap", &wrap.to_string());
        }
    });
}
