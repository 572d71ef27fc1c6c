//! The controls above the list: search (with next/previous, regex, case, only matching), the
//! jumps, the view's switches, the level filter with counts, and the notices that say what went
//! wrong.

use super::state::{Failure, Logs, Status};
use crate::api::LogLevel;
use crate::log_query::LogFormat;
use crate::logs::colour;
use crate::logs::search::Needle;
use crate::logs::store::level_index;
use leptos::prelude::*;

const BUTTON: &str =
    "rounded border border-gray-300 bg-white px-2 py-1 text-sm hover:bg-gray-50 disabled:cursor-not-allowed disabled:opacity-40";

fn pressed(on: bool) -> &'static str {
    if on { "rounded border border-gray-800 bg-gray-800 px-2 py-1 text-sm text-white hover:bg-gray-700" } else { BUTTON }
}

#[component]
pub fn SearchBar(logs: Logs) -> impl IntoView {
    let text = RwSignal::new(logs.needle.get_untracked().text);
    // A plain (thread-safe) value: this component is rendered on the server too, where a
    // thread-local one would panic when the render is dropped on another thread.
    let pending = StoredValue::new(None::<leptos::prelude::TimeoutHandle>);
    let apply = move || {
        if let Some(handle) = pending.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        logs.set_needle(Needle { text: text.get_untracked(), ..logs.needle.get_untracked() });
    };
    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        if let Some(handle) = pending.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        if let Ok(handle) = set_timeout_with_handle(apply, std::time::Duration::from_millis(250)) {
            pending.set_value(Some(handle));
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            apply();
            logs.step_hit(!ev.shift_key());
        }
        "Escape" => {
            text.set(String::new());
            apply();
        }
        _ => {}
    };
    let toggle_regex = move |_| logs.set_needle(Needle { regex: !logs.needle.get_untracked().regex, ..logs.needle.get_untracked() });
    let toggle_case =
        move |_| logs.set_needle(Needle { case_sensitive: !logs.needle.get_untracked().case_sensitive, ..logs.needle.get_untracked() });
    let toggle_only = move |_| {
        let filter = logs.filter.get_untracked();
        logs.set_filter(crate::logs::viewer::Filter { only_matching: !filter.only_matching, ..filter });
    };
    let counts = Memo::new(move |_| {
        logs.rev.track();
        let cursor = logs.cursor.get();
        logs.viewer.with_value(|v| {
            let done = v.search().done(v.store());
            (cursor.and_then(|c| v.hit_ordinal(c)), v.hit_count(), done)
        })
    });
    let summary = move || {
        let needle = logs.needle.get();
        if needle.is_empty() || logs.needle_error.get().is_some() {
            return String::new();
        }
        let (at, total, done) = counts.get();
        let more = if done { "" } else { "…" };
        match (at, total) {
            (_, 0) if done => "No matches".to_string(),
            (Some(n), m) => format!("{n} of {m}{more}"),
            (None, 1) => format!("1 match{more}"),
            (None, m) => format!("{m} matches{more}"),
        }
    };
    let no_hits = move || counts.get().1 == 0;
    view! {
        <div class="flex flex-wrap items-center gap-2" role="search">
            <input type="search" node_ref=logs.search_input placeholder="Search the log  ( / )"
                   aria-label="Search the log (Enter: next match, Shift+Enter: previous)"
                   class="w-80 rounded border border-gray-300 bg-white px-2 py-1 font-mono text-sm"
                   prop:value=move || text.get() on:input=on_input on:keydown=on_key data-testid="search"/>
            <button class=move || pressed(logs.needle.get().regex) on:click=toggle_regex title="Regular expression"
                    aria-label="Regular expression" aria-pressed=move || logs.needle.get().regex.to_string() data-testid="search-regex">
                <span class="font-mono">".*"</span>
            </button>
            <button class=move || pressed(logs.needle.get().case_sensitive) on:click=toggle_case title="Match case"
                    aria-label="Match case" aria-pressed=move || logs.needle.get().case_sensitive.to_string() data-testid="search-case">
                <span class="font-mono">"Aa"</span>
            </button>
            <button class=BUTTON on:click=move |_| logs.step_hit(false) disabled=no_hits aria-label="Previous match"
                    title="Previous match (Shift+Enter)" data-testid="search-prev">"↑"</button>
            <button class=BUTTON on:click=move |_| logs.step_hit(true) disabled=no_hits aria-label="Next match"
                    title="Next match (Enter)" data-testid="search-next">"↓"</button>
            <span class="min-w-24 text-sm text-gray-600" data-testid="search-count" aria-live="polite">{summary}</span>
            {move || logs.needle_error.get().map(|e| view! {
                <span class="rounded bg-red-50 px-2 py-0.5 text-sm text-red-800" data-testid="search-error">{format!("Bad pattern: {e}")}</span>
            })}
            <label class="flex items-center gap-1 text-sm text-gray-700">
                <input type="checkbox" prop:checked=move || logs.filter.get().only_matching on:change=toggle_only data-testid="only-matching"/>
                "Only matching lines"
            </label>
        </div>
    }
    .into_any()
}

/// Jumps and the view's switches.
#[component]
pub fn ViewBar(logs: Logs) -> impl IntoView {
    let first_error = Memo::new(move |_| {
        logs.rev.track();
        logs.viewer.with_value(|v| v.first_error())
    });
    let first_marker = Memo::new(move |_| {
        logs.rev.track();
        logs.viewer.with_value(|v| {
            let store = v.store();
            let markers = store.level_counts()[level_index(LogLevel::Marker)];
            (markers > 0).then(|| ((0..store.len() as u32).find(|&i| store.record(i).level == LogLevel::Marker), markers))
        })
    });
    let zone = move || {
        if logs.utc.get() {
            "Times: UTC".to_string()
        } else {
            format!("Times: local ({})", crate::logs::render::zone_label(&jiff::tz::TimeZone::system(), jiff::Timestamp::now()))
        }
    };
    view! {
        <div class="flex flex-wrap items-center gap-2">
            <button class=BUTTON disabled=move || first_error.get().is_none()
                    on:click=move |_| if let Some(i) = first_error.get_untracked() { logs.jump(i) }
                    data-testid="first-error">"First error"</button>
            {move || first_marker.get().map(|(first, n)| view! {
                <button class="rounded border border-violet-300 bg-violet-50 px-2 py-1 text-sm text-violet-900 hover:bg-violet-100"
                        on:click=move |_| if let Some(i) = first { logs.jump(i) } data-testid="first-marker"
                        title="Sources that had a problem (a corrupt archive, a deleted pod)">
                    {format!("⚠ {n} source {}", if n == 1 { "problem" } else { "problems" })}
                </button>
            })}
            <span class="mx-1 h-5 w-px bg-gray-300"></span>
            <button class=move || pressed(logs.follow.get()) on:click=move |_| logs.follow.update(|f| *f = !*f)
                    aria-pressed=move || logs.follow.get().to_string() title="Keep the stream open and show new lines as they come"
                    data-testid="follow">
                {move || if logs.follow.get() { "● Following" } else { "Follow" }}
            </button>
            <button class=move || pressed(logs.wrap.get()) on:click=move |_| logs.wrap.update(|w| *w = !*w)
                    aria-pressed=move || logs.wrap.get().to_string() data-testid="wrap">"Wrap lines"</button>
            <button class=BUTTON on:click=move |_| logs.expand_all.update(|e| *e = !*e) data-testid="expand-all">
                {move || if logs.expand_all.get() { "Fold all traces" } else { "Unfold all traces" }}
            </button>
            <button class=BUTTON on:click=move |_| logs.utc.update(|u| *u = !*u) title="Show times in UTC or in this browser's zone"
                    data-testid="timezone">{zone}</button>
        </div>
    }
    .into_any()
}

/// Level toggles with how many lines each level has among the chosen sources.
#[component]
pub fn LevelFilter(logs: Logs) -> impl IntoView {
    let counts = Memo::new(move |_| {
        logs.rev.track();
        logs.viewer.with_value(|v| *v.level_counts())
    });
    let chips = LogLevel::ALL
        .into_iter()
        .filter(|l| *l != LogLevel::Marker)
        .map(|level| {
            let on = move || {
                let levels = logs.filter.get().levels;
                levels.is_empty() || levels.contains(&level)
            };
            let class = move || {
                if on() {
                    format!("rounded px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", colour::level_chip(level))
                } else {
                    "rounded px-2 py-0.5 text-xs text-gray-400 line-through ring-1 ring-inset ring-gray-200 bg-white".to_string()
                }
            };
            view! {
                <button class=class on:click=move |e: leptos::ev::MouseEvent| logs.click_level(level, e.shift_key())
                        aria-pressed=move || on().to_string() title="Click: only this level (then add or remove others). Shift+click: hide or show it."
                        data-level=level.as_str() data-testid="level">
                    {level.as_str()} " " <span class="font-normal">{move || counts.get()[level_index(level)]}</span>
                </button>
            }
        })
        .collect_view();
    let filtered = move || {
        let f = logs.filter.get();
        !f.levels.is_empty() || !f.sources.is_empty() || f.only_matching
    };
    view! {
        <div class="flex flex-wrap items-center gap-1.5" role="group" aria-label="Levels">
            <span class="mr-1 text-xs uppercase tracking-wide text-gray-500">"Levels"</span>
            {chips}
            {move || filtered().then(|| view! {
                <button class="ml-2 text-sm text-gray-600 underline" on:click=move |_| logs.set_filter(Default::default())
                        data-testid="clear-filters">"Show all lines"</button>
            })}
        </div>
    }
    .into_any()
}

/// The spans the picker offers (any other `since` works in the URL too).
const SPANS: [(&str, &str); 6] = [
    ("", "Whole log"),
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("6h", "Last 6 hours"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
];

/// The time span asked of the server: changing it loads the log again.
#[component]
pub fn SpanPicker(logs: Logs) -> impl IntoView {
    let (since, until) = logs.span.get_value();
    let current = since.map(|s| s.as_param()).unwrap_or_default();
    let custom = (!SPANS.iter().any(|(v, _)| *v == current)).then(|| current.clone());
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        let href = logs.with_since(crate::query::TimeBound::parse(&value).ok());
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href(&href);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = href;
    };
    view! {
        <label class="ml-auto flex items-center gap-1.5 text-sm text-gray-600">
            "Time span"
            <select class="rounded border border-gray-300 bg-white px-2 py-0.5 text-sm" on:change=on_change data-testid="span">
                {SPANS.into_iter().map(|(value, label)| view! { <option value=value selected=value == current>{label}</option> }).collect_view()}
                {custom.map(|c| view! { <option value=c.clone() selected=true>{format!("Since {c}")}</option> })}
            </select>
            {until.map(|u| view! { <span class="text-xs">{format!("until {}", u.as_param())}</span> })}
        </label>
    }
    .into_any()
}

/// Events held, their size, and where loading stands; the download.
#[component]
pub fn StatusLine(logs: Logs) -> impl IntoView {
    let loaded = Memo::new(move |_| {
        logs.rev.track();
        logs.viewer.with_value(|v| (v.store().len(), v.store().text_bytes(), v.visible().len()))
    });
    let state = move || match logs.status.get() {
        Status::Starting => ("starting", "starting…"),
        Status::Loading => ("loading", "loading…"),
        Status::Following => ("following", "● live"),
        Status::Complete => ("complete", "complete"),
        Status::Paused => ("paused", "up to now (not following)"),
        Status::Interrupted(_) => ("interrupted", "interrupted"),
        Status::Failed(_) => ("failed", "failed"),
    };
    let download = move || logs.api_url(&logs.query(LogFormat::Text));
    let file = move || format!("{}-{}.log", logs.namespace.get_value(), logs.name.get_value());
    view! {
        <div class="ml-auto flex items-center gap-3 text-sm text-gray-600">
            <span data-testid="log-status" data-state=move || state().0>
                {move || {
                    let (events, bytes, rows) = loaded.get();
                    let shown = if rows == events { String::new() } else { format!(" · {} shown", thousands(rows)) };
                    format!("{} events · {}{shown} · {}", thousands(events), size(bytes), state().1)
                }}
            </span>
            <a class="rounded border border-gray-300 bg-white px-2 py-1 text-gray-800 hover:bg-gray-50" href=download download=file
               rel="external" data-testid="download" title="The lines these filters keep, as text">"Download"</a>
        </div>
    }
    .into_any()
}

/// What went wrong, what is missing, and the linked line.
#[component]
pub fn Notices(logs: Logs, url_error: Option<String>) -> impl IntoView {
    let restart = move |_| {
        #[cfg(feature = "hydrate")]
        super::loader::start(logs, logs.follow.get_untracked());
    };
    let reload = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    };
    let problem = move || match logs.status.get() {
        Status::Failed(failure) => {
            let (title, detail) = match failure {
                Failure::NotFound(m) => ("There is no log for this job.", m),
                Failure::BadQuery(m) => ("The server refused this log query.", m),
                Failure::Server(s, m) => ("The server could not send the log.", format!("HTTP {s}: {m}")),
                Failure::Network(m) => ("The log could not be loaded.", m),
            };
            Some(view! {
                <div class="flex flex-wrap items-center gap-3 rounded border border-red-200 bg-red-50 p-2 text-sm text-red-900" data-testid="log-error" role="alert">
                    <span class="font-semibold">{title}</span>
                    <span>{detail}</span>
                    <button class="ml-auto rounded border border-red-300 bg-white px-2 py-0.5 hover:bg-red-100" on:click=restart>"Try again"</button>
                </div>
            }.into_any())
        }
        Status::Interrupted(why) => {
            let n = logs.viewer.with_value(|v| v.store().len());
            Some(view! {
                <div class="flex flex-wrap items-center gap-3 rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" data-testid="log-interrupted" role="alert">
                    <span>{format!("The log stream ended unexpectedly after {} events ({why}). The lines so far are shown.", thousands(n))}</span>
                    <button class="ml-auto rounded border border-amber-400 bg-white px-2 py-0.5 hover:bg-amber-100" on:click=restart>"Resume"</button>
                    <button class="rounded border border-amber-400 bg-white px-2 py-0.5 hover:bg-amber-100" on:click=reload>"Reload page"</button>
                </div>
            }.into_any())
        }
        _ => None,
    };
    let target = move || {
        let id = logs.target.get()?;
        let looked = matches!(logs.status.get(), Status::Complete | Status::Paused | Status::Interrupted(_) | Status::Failed(_));
        Some(view! {
            <p class="rounded border border-gray-200 bg-gray-50 p-2 text-sm text-gray-700" data-testid="permalink-missing">
                {if looked { format!("Line {id} is not in this log (it may be outside the time span).") } else { format!("Looking for line {id}…") }}
            </p>
        })
    };
    let copied = RwSignal::new(None::<bool>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let ok = super::browser::copy(&super::browser::href()).await;
            copied.set(Some(ok));
        });
    };
    let selected = move || {
        let i = logs.selected.get()?;
        let (time, label) = logs.viewer.with_value(|v| {
            let tz = if logs.utc.get_untracked() { jiff::tz::TimeZone::UTC } else { jiff::tz::TimeZone::system() };
            (crate::logs::render::time_text(v.store().time(i), &tz), v.store().source(i).label.clone())
        });
        Some(view! {
            <div class="flex flex-wrap items-center gap-2 rounded border border-yellow-300 bg-yellow-50 px-2 py-1 text-sm text-yellow-900" data-testid="linked-line">
                <span>"Linked line: " <span class="font-mono">{time}</span> " · " {label}</span>
                <button class="rounded border border-yellow-400 bg-white px-2 py-0.5 hover:bg-yellow-100" on:click=move |_| logs.go_to(i, false)>"Show"</button>
                <button class="rounded border border-yellow-400 bg-white px-2 py-0.5 hover:bg-yellow-100" on:click=copy data-testid="copy-link">"Copy link"</button>
                {move || copied.get().map(|ok| if ok { "Copied." } else { "Could not copy; the address bar has the link." })}
                <button class="ml-auto text-yellow-800 hover:text-yellow-950" on:click=move |_| logs.clear_selection() aria-label="Unlink this line">"✕"</button>
            </div>
        })
    };
    let bad = move || {
        let n = logs.bad_lines.get();
        (n > 0).then(|| {
            view! {
                <p class="rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" data-testid="bad-lines">
                    {format!("{n} lines of the stream were not log events and were skipped.")}
                </p>
            }
        })
    };
    view! {
        <div class="flex flex-col gap-2 empty:hidden">
            {url_error.map(|e| view! {
                <p class="rounded bg-red-50 p-2 text-sm text-red-800" data-testid="query-error">
                    {format!("This link's filters do not parse: {e}. Showing all lines.")}
                </p>
            })}
            {problem}
            {target}
            {selected}
            {bad}
        </div>
    }
    .into_any()
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as `512 B`, `3.4 KB`, `12.0 MB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_easily() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(size(10), "10 B");
        assert_eq!(size(3 * 1024 * 1024 / 2), "1.5 MB");
    }
}
