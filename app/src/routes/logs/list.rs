//! The virtualised list: a tall spacer as high as every visible row together, and inside it one
//! absolutely positioned window with only the rows in view (plus some above and below). A
//! scroll redraws the window, never the million rows.

use super::state::{Logs, OVERSCAN_PX, Status};
use crate::api::LogLevel;
use crate::logs::colour;
use crate::logs::layout::{LINE_PX, Window};
use crate::logs::render::{self, RowView};
use jiff::tz::TimeZone;
use leptos::prelude::*;
use std::hash::{Hash, Hasher};

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
/// Character columns in front of the text: fold toggle, time, source, level.
pub const PREFIX_COLUMNS: usize = 2 + 24 + 15 + 8 + 1;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
/// Pixels of a row that are not character columns: the colour bar, padding, some slack.
pub const FIXED_PX: f64 = 3.0 + 4.0 + 8.0 + 4.0;

/// A row with what decides whether its elements can be kept.
#[derive(Clone, Debug, PartialEq)]
struct Keyed {
    key: u64,
    row: RowView,
    selected: bool,
    focused: bool,
    current: bool,
}

#[component]
pub fn LogList(logs: Logs) -> impl IntoView {
    let wrap = logs.wrap;
    let window = Memo::new(move |_| {
        logs.rev.track();
        let top = logs.scroll_top.get();
        let (_, height) = logs.viewport.get();
        let needle = logs.needle.get();
        let (selected, focused, current) = (logs.selected.get(), logs.focus.get(), logs.cursor.get());
        let utc = logs.utc.get();
        let wrap = wrap.get();
        let tz = if utc { TimeZone::UTC } else { TimeZone::system() };
        #[cfg(feature = "hydrate")]
        let matcher = (!needle.is_empty()).then(|| super::browser::matcher(&needle).ok()).flatten();
        #[cfg(not(feature = "hydrate"))]
        let matcher: Option<Box<dyn crate::logs::search::Matcher>> = None;
        logs.viewer.with_value(|v| {
            let w = v.window(top, height, OVERSCAN_PX);
            let rows: Vec<Keyed> = v.visible()[w.first..w.end]
                .iter()
                .map(|&i| {
                    let row = render::row(v, i, &tz, matcher.as_deref());
                    let flags = (selected == Some(i), focused == Some(i), current == Some(i));
                    let mut h = std::hash::DefaultHasher::new();
                    (i, &needle.text, needle.regex, needle.case_sensitive, utc, wrap, row.expanded, flags).hash(&mut h);
                    Keyed { key: h.finish(), row, selected: flags.0, focused: flags.1, current: flags.2 }
                })
                .collect();
            (w, rows)
        })
    });
    let geometry = move || window.with(|(w, _): &(Window, Vec<Keyed>)| *w);

    let on_scroll = move |_| {
        let Some(el) = logs.container.get_untracked() else { return };
        let top = f64::from(el.scroll_top());
        logs.scroll_top.set(top);
        let at_bottom = top + f64::from(el.client_height()) >= f64::from(el.scroll_height()) - 8.0;
        if at_bottom != logs.stick.get_untracked() {
            if !at_bottom {
                logs.unseen_from.set(logs.viewer.with_value(|v| v.store().len()));
            }
            logs.stick.set(at_bottom);
        }
    };

    view! {
        <div class="relative h-full">
            <div node_ref=logs.container on:scroll=on_scroll tabindex="0" role="log" aria-live="off" aria-label="Log lines"
                 class="h-full overflow-auto rounded border border-gray-200 bg-white font-mono text-xs leading-5 [tab-size:4] focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-400"
                 data-testid="log-list">
                <div class="relative min-w-full" style:height=move || format!("{}px", geometry().spacer_px)>
                    // Unwrapped rows are as wide as their longest line (the list scrolls sideways);
                    // wrapped ones as wide as the list.
                    <div class=move || if wrap.get() { "absolute left-0 w-full" } else { "absolute left-0 min-w-full w-max" }
                         style:top=move || format!("{}px", geometry().top_px)
                         data-testid="log-window">
                        <For each=move || window.get().1 key=|k| k.key let:k>
                            <Row logs keyed=k/>
                        </For>
                    </div>
                </div>
                <EmptyState logs/>
            </div>
            <JumpToLatest logs/>
        </div>
    }
    .into_any()
}

#[component]
fn Row(logs: Logs, keyed: Keyed) -> impl IntoView {
    let Keyed { row, selected, focused, current, .. } = keyed;
    let event = row.event;
    let marker = row.level == LogLevel::Marker;
    let wrap = logs.wrap.get_untracked();
    let background = if selected {
        "bg-yellow-100"
    } else if focused {
        "bg-sky-100"
    } else {
        colour::level_row(row.level)
    };
    let ring = if current {
        "ring-2 ring-inset ring-orange-400"
    } else if selected {
        "ring-1 ring-inset ring-yellow-500"
    } else if focused {
        "ring-2 ring-inset ring-sky-400"
    } else {
        ""
    };
    let bar = if marker { "border-violet-600" } else { row.colour.bar };
    let height = (!wrap).then(|| format!("{}px", f64::from(row.lines.len() as u32 + u32::from(row.hidden > 0 && row.expanded)) * LINE_PX));
    let text_class = match (wrap, marker) {
        (true, true) => "min-w-0 flex-1 whitespace-pre-wrap break-all font-semibold text-violet-900",
        (true, false) => "min-w-0 flex-1 whitespace-pre-wrap break-all",
        (false, true) => "flex-1 whitespace-pre font-semibold text-violet-900",
        (false, false) => "flex-1 whitespace-pre",
    };
    let mark_class = if current { "rounded-sm bg-orange-300 text-inherit" } else { "rounded-sm bg-yellow-200 text-inherit" };
    let hidden = row.hidden;
    let expanded = row.expanded;
    let toggle = move |_| logs.toggle_expanded(event);
    let lines = row
        .lines
        .into_iter()
        .enumerate()
        .map(|(n, pieces)| {
            let pieces = pieces
                .into_iter()
                .map(|p| {
                    if p.mark {
                        view! { <mark class=format!("{mark_class} {}", p.class)>{p.text}</mark> }.into_any()
                    } else if p.class.is_empty() {
                        p.text.into_any()
                    } else {
                        view! { <span class=p.class>{p.text}</span> }.into_any()
                    }
                })
                .collect_view();
            let more = (n == 0 && hidden > 0 && !expanded).then(|| {
                view! {
                    <button class="ml-2 rounded bg-gray-100 px-1 text-gray-600 hover:bg-gray-200" on:click=toggle
                            data-testid="more-lines">{format!("+{hidden} lines")}</button>
                }
            });
            view! { <div class=if n == 0 { "" } else { "text-gray-700" }>{pieces}{more}</div> }
        })
        .collect_view();
    let capped = (hidden > 0 && expanded).then(|| {
        view! {
            <div class="italic text-gray-500">{format!("… {hidden} more lines (download the log for all of them)")}</div>
        }
    });
    let permalink = move |_| logs.select(event);
    let (id, label) = (row.id.clone(), row.label.clone());
    view! {
        <div class=format!("flex items-start border-l-[3px] pr-2 pl-1 {bar} {background} {ring}")
             style:height=height
             data-testid="log-row" data-event=event.to_string() data-id=id data-level=row.level.as_str()
             data-source=label data-selected=selected.to_string() data-current=current.to_string()>
            <span class="w-[2ch] shrink-0 text-gray-400">
                {row.multiline.then(|| view! {
                    <button class="hover:text-gray-900" on:click=toggle aria-expanded=expanded.to_string()
                            aria-label=if expanded { "Fold this event's lines" } else { "Unfold this event's lines" }
                            data-testid="fold">{if expanded { "▾" } else { "▸" }}</button>
                })}
            </span>
            <button class="w-[24ch] shrink-0 text-left text-gray-500 hover:text-blue-700 hover:underline" on:click=permalink
                    title="Link to this line" data-testid="permalink">{row.time}</button>
            <span class=format!("w-[15ch] shrink-0 truncate pr-[1ch] {}", row.colour.text) title=row.origin>{row.label}</span>
            <span class=format!("w-[8ch] shrink-0 {}", colour::level_text(row.level))
                  title=if row.stderr { "stderr" } else { "" }>
                {if marker { "⚠ NOTE".to_string() } else { row.level.as_str().to_string() }}
            </span>
            <div class=text_class>{lines}{capped}</div>
        </div>
    }
    .into_any()
}

/// What the list says when it has no rows.
#[component]
fn EmptyState(logs: Logs) -> impl IntoView {
    let message = Memo::new(move |_| {
        logs.rev.track();
        let (events, rows) = logs.viewer.with_value(|v| (v.store().len(), v.visible().len()));
        if rows > 0 {
            return None;
        }
        let spanned = logs.span.with_value(|(since, until)| since.is_some() || until.is_some());
        Some(match (logs.status.get(), events) {
            (Status::Starting | Status::Loading, 0) => "Loading the log…",
            (Status::Following, 0) => "Waiting for the first lines…",
            (Status::Failed(_), _) => return None,
            (_, 0) if spanned => "No log lines in this time span.",
            (_, 0) => "This job has no log lines.",
            _ => "No lines match these filters.",
        })
    });
    let filtered = move || logs.viewer.with_value(|v| !v.store().is_empty());
    let clear = move |_| {
        logs.set_filter(Default::default());
        logs.set_needle(crate::logs::search::Needle { case_sensitive: logs.needle.get_untracked().case_sensitive, ..Default::default() });
    };
    move || {
        message.get().map(|m| {
            view! {
                <div class="absolute inset-x-0 top-8 text-center font-sans text-sm text-gray-500" data-testid="log-empty">
                    <p>{m}</p>
                    {filtered().then(|| view! {
                        <button class="mt-2 rounded border border-gray-300 px-2 py-1 text-gray-700 hover:bg-gray-50" on:click=clear>
                            "Clear filters and search"
                        </button>
                    })}
                </div>
            }
        })
    }
}

/// While following: back to the newest line after scrolling up.
#[component]
fn JumpToLatest(logs: Logs) -> impl IntoView {
    let shown = move || logs.follow.get() && !logs.stick.get() && matches!(logs.status.get(), Status::Following);
    let unseen = move || {
        logs.rev.track();
        logs.viewer.with_value(|v| v.store().len()).saturating_sub(logs.unseen_from.get())
    };
    move || {
        shown().then(|| {
            view! {
                <button class="absolute bottom-4 right-6 rounded-full bg-gray-800 px-3 py-1.5 font-sans text-sm text-white shadow hover:bg-gray-700"
                        on:click=move |_| logs.scroll_to_latest() data-testid="jump-latest">
                    {move || match unseen() {
                        0 => "↓ Jump to latest".to_string(),
                        n => format!("↓ Jump to latest ({n} new)"),
                    }}
                </button>
            }
        })
    }
}
