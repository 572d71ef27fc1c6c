//! Beside the list: the sources (grouped driver, executors, controller; a checkbox each, with
//! colour and count) and the exceptions panel (stack traces grouped by class and top frames).

use super::state::Logs;
use crate::api::PodRole;
use crate::logs::colour::{PALETTE, SourceColour};
use crate::logs::exceptions::Kind;
use crate::logs::render::time_text;
use leptos::prelude::*;

/// One source as the filter lists it.
#[derive(Clone, Debug, PartialEq)]
struct SourceRow {
    index: u16,
    label: String,
    origin: String,
    colour: SourceColour,
    count: u32,
    on: bool,
}

#[component]
pub fn Sources(logs: Logs) -> impl IntoView {
    let groups = Memo::new(move |_| {
        logs.rev.track();
        logs.viewer.with_value(|v| {
            let store = v.store();
            store
                .sources_by_role()
                .into_iter()
                .filter(|(_, members)| !members.is_empty())
                .map(|(role, members)| {
                    let rows: Vec<SourceRow> = members
                        .into_iter()
                        .map(|i| {
                            let s = &store.sources()[i as usize];
                            SourceRow {
                                index: i,
                                label: s.label.clone(),
                                origin: format!("{}/{}", s.source.pod, s.source.container),
                                colour: PALETTE[s.colour],
                                count: s.count,
                                on: v.source_kept(i),
                            }
                        })
                        .collect();
                    (role, rows)
                })
                .collect::<Vec<_>>()
        })
    });
    // The current choice per source index, changed by `change`.
    let choose = move |change: &dyn Fn(&mut Vec<bool>)| {
        let groups = groups.get_untracked();
        let n = groups.iter().map(|(_, rows)| rows.len()).sum();
        let mut on = vec![false; n];
        for row in groups.iter().flat_map(|(_, rows)| rows) {
            on[row.index as usize] = row.on;
        }
        change(&mut on);
        logs.set_sources(&on);
    };
    let group_view = move |(role, rows): (PodRole, Vec<SourceRow>)| {
        let title = match role {
            PodRole::Driver => "Driver",
            PodRole::Executor => "Executors",
            PodRole::Controller => "Controller",
        };
        let all_on = rows.iter().all(|r| r.on);
        let some_on = rows.iter().any(|r| r.on);
        let members: Vec<u16> = rows.iter().map(|r| r.index).collect();
        let toggle_group = move |_| {
            let members = members.clone();
            choose(&move |on| {
                for &m in &members {
                    on[m as usize] = !all_on;
                }
            })
        };
        let items = rows
            .into_iter()
            .map(|row| {
                let i = row.index as usize;
                let toggle = move |_| choose(&move |on| on[i] = !on[i]);
                let only = move |_| {
                    choose(&move |on| {
                        on.iter_mut().for_each(|b| *b = false);
                        on[i] = true;
                    })
                };
                view! {
                    <li class="group flex items-center gap-1.5 py-0.5" data-testid="source" data-source=row.label.clone()>
                        <input type="checkbox" prop:checked=row.on on:change=toggle id=format!("source-{i}")
                               aria-label=format!("Show {}", row.label)/>
                        <span class=format!("h-2.5 w-2.5 shrink-0 rounded-sm {}", row.colour.swatch)></span>
                        <label for=format!("source-{i}") class=format!("min-w-0 flex-1 truncate font-mono text-xs {}", row.colour.text)
                               title=row.origin>{row.label.clone()}</label>
                        <button class="hidden text-xs text-gray-500 underline group-hover:inline focus:inline" on:click=only
                                aria-label=format!("Show only {}", row.label)>"only"</button>
                        <span class="text-xs tabular-nums text-gray-500">{row.count}</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="mb-2">
                <label class="flex items-center gap-1.5 text-xs font-semibold uppercase tracking-wide text-gray-600">
                    <input type="checkbox" prop:checked=all_on prop:indeterminate=some_on && !all_on on:change=toggle_group
                           data-testid="source-group" data-role=title/>
                    {title}
                </label>
                <ul class="ml-1">{items}</ul>
            </div>
        }
    };
    view! {
        <section aria-label="Sources" data-testid="sources">
            <h2 class="mb-1 text-sm font-semibold uppercase tracking-wide text-gray-600">"Sources"</h2>
            {move || {
                let groups = groups.get();
                if groups.is_empty() {
                    view! { <p class="text-xs text-gray-500">"None yet."</p> }.into_any()
                } else {
                    groups.into_iter().map(group_view).collect_view().into_any()
                }
            }}
        </section>
    }
    .into_any()
}

/// One exception group as the panel shows it.
#[derive(Clone, Debug, PartialEq)]
struct ExceptionRow {
    class: String,
    message: String,
    cause: Option<String>,
    frames: Vec<String>,
    kind: Kind,
    count: usize,
    first: u32,
    first_time: String,
    sources: Vec<String>,
    events: Vec<u32>,
}

/// Groups shown at most (the most frequent).
const MAX_GROUPS: usize = 50;

#[component]
pub fn Exceptions(logs: Logs) -> impl IntoView {
    let groups = Memo::new(move |_| {
        logs.rev.track();
        let utc = logs.utc.get();
        let tz = if utc { jiff::tz::TimeZone::UTC } else { jiff::tz::TimeZone::system() };
        logs.viewer.with_value(|v| {
            let store = v.store();
            let mut rows: Vec<ExceptionRow> = v
                .exceptions()
                .groups
                .iter()
                .map(|g| ExceptionRow {
                    class: g.exception.class.clone(),
                    message: g.exception.message.clone(),
                    cause: g.exception.cause.clone(),
                    frames: g.exception.frames.clone(),
                    kind: g.exception.kind,
                    count: g.count(),
                    first: g.first(),
                    first_time: time_text(store.time(g.first()), &tz),
                    sources: g.sources.iter().map(|&s| store.sources()[s as usize].label.clone()).collect(),
                    events: g.events.clone(),
                })
                .collect();
            rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.first.cmp(&b.first)));
            rows.truncate(MAX_GROUPS);
            rows
        })
    });
    let total = move || groups.with(|g| g.iter().map(|r| r.count).sum::<usize>());
    view! {
        <section aria-label="Exceptions" data-testid="exceptions" class="mt-4">
            <h2 class="mb-1 text-sm font-semibold uppercase tracking-wide text-gray-600">
                "Exceptions"
                <span class="ml-1 font-normal normal-case text-gray-500" data-testid="exceptions-total">
                    {move || match groups.with(Vec::len) {
                        0 => String::new(),
                        1 => format!("1 kind · {} in all", total()),
                        n => format!("{n} kinds · {} in all", total()),
                    }}
                </span>
            </h2>
            {move || groups.with(Vec::is_empty).then(|| view! {
                <p class="text-xs text-gray-500">"No stack traces or tracebacks so far."</p>
            })}
            <ul class="flex flex-col gap-2">
                <For each=move || groups.get() key=|r| (r.class.clone(), r.frames.clone(), r.count) let:row>
                    <ExceptionItem logs row/>
                </For>
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn ExceptionItem(logs: Logs, row: ExceptionRow) -> impl IntoView {
    let (package, short) = match row.class.rsplit_once('.') {
        Some((p, c)) => (format!("{p}."), c.to_string()),
        None => (String::new(), row.class.clone()),
    };
    let first = row.first;
    let events = row.events.clone();
    // Which occurrence "next" went to last.
    let at = RwSignal::new(0usize);
    let next = move |_| {
        let k = (at.get_untracked() + 1) % events.len();
        at.set(k);
        logs.jump(events[k]);
    };
    let count = row.count;
    view! {
        <li class="rounded border border-red-200 bg-white p-2 text-xs" data-testid="exception" data-class=row.class.clone()
            data-count=row.count.to_string()>
            <div class="flex items-start gap-2">
                <button class="min-w-0 flex-1 text-left hover:underline" title=row.class.clone()
                        on:click=move |_| { at.set(0); logs.jump(first) } data-testid="exception-first">
                    <span class="break-words text-gray-500">{package}</span>
                    <span class="break-words font-semibold text-red-800">{short}</span>
                </button>
                <span class="shrink-0 rounded bg-red-100 px-1.5 font-semibold text-red-800" title="occurrences">{format!("×{}", row.count)}</span>
            </div>
            {(!row.message.is_empty()).then(|| view! {
                <p class="mt-0.5 line-clamp-2 break-words text-gray-800" title=row.message.clone()>{row.message.clone()}</p>
            })}
            {row.cause.clone().map(|c| view! { <p class="mt-0.5 break-all text-gray-600">"caused by " <span class="font-mono">{c}</span></p> })}
            <ol class="mt-1 font-mono text-[11px] leading-4 text-gray-600">
                {row.frames.iter().map(|f| view! { <li class="truncate" title=f.clone()>{f.clone()}</li> }).collect_view()}
            </ol>
            <div class="mt-1 flex flex-wrap items-center gap-x-2 text-gray-500">
                <span>{if row.kind == Kind::Python { "Python" } else { "JVM" }}</span>
                <span>"first " <span class="font-mono">{row.first_time.clone()}</span></span>
                <span class="truncate" title=row.sources.join(", ")>{row.sources.join(", ")}</span>
                {(count > 1).then(|| view! {
                    <button class="ml-auto text-blue-700 hover:underline" on:click=next data-testid="exception-next">
                        {move || format!("next ({}/{count})", (at.get() + 1) % count + 1)}
                    </button>
                })}
            </div>
        </li>
    }
    .into_any()
}
