//! `/jobs/{namespace}/{name}/metrics`: did the job run out of memory, which container, how close
//! to the limit, was it starved of CPU, how many executors did it have over time.
//!
//! The server renders the shell (job, state, the time range from the address); the browser
//! then asks `GET /api/v1/jobs/{ns}/{name}/metrics?summarise=8` (many executors arrive folded
//! into max, median and min, so the page stays small at two hundred executors) and draws the
//! charts ([`plot`]). While the job runs it follows the job's stream and asks again every few
//! seconds ([`REFRESH`]); a panel whose data failed says why in its place, the others are drawn.
//! Below the charts, Spark's own numbers per executor ([`executors`]).

mod executors;
mod plot;

use super::job::job_subpage;
use crate::api::{JobDetail, JobMetrics, MetricsSource, Panel};
use crate::format;
use crate::metrics::chart::{self, ChartKind};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// How often a running job's metrics sampled from metrics-server are asked again; Prometheus'
/// every third time (its points are a scrape interval apart anyway).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(5);
/// Executors drawn one by one before the rest are folded.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const KEEP_EXECUTORS: usize = 8;
/// The ranges offered: the whole run, or its last part.
const RANGES: [(&str, &str); 5] =
    [("", "Whole run"), ("15m", "Last 15 minutes"), ("1h", "Last hour"), ("6h", "Last 6 hours"), ("24h", "Last 24 hours")];

#[component]
pub fn MetricsPage() -> impl IntoView {
    let query = use_query_map();
    job_subpage("Metrics", move |detail| {
        let range = query.with_untracked(|q| q.get("range")).unwrap_or_default();
        let range = if RANGES.iter().any(|(v, _)| *v == range) { range } else { String::new() };
        view! { <MetricsView detail range/> }.into_any()
    })
}

/// Where the page's data stands (only the browser loads it).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Load {
    Loading,
    Loaded(Box<JobMetrics>),
    Failed(String),
}

#[component]
fn MetricsView(detail: JobDetail, range: String) -> impl IntoView {
    let job_path = format!("/jobs/{}/{}", crate::query::encode(&detail.job.namespace), crate::query::encode(&detail.job.name));
    let detail = RwSignal::new(detail);
    let range = RwSignal::new(range);
    let load = RwSignal::new(Load::Loading);
    #[cfg(feature = "hydrate")]
    wire_up(detail, range, load, job_path.clone());

    let state = move || detail.with(|d| d.job.state);
    let metrics = move || match load.get() {
        Load::Loaded(m) => Some(*m),
        _ => None,
    };
    let on_range = move |ev| range.set(event_target_value(&ev));
    view! {
        <div class="flex flex-col gap-3" data-testid="metrics">
            <header class="flex flex-wrap items-center gap-3">
                <a class="text-blue-700 hover:underline" href=job_path.clone() data-testid="job-link">
                    {move || format!("← {}", detail.with(|d| d.job.name.clone()))}
                </a>
                <h1 class="text-xl font-semibold">"Metrics"</h1>
                <span class=move || format!("rounded px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", format::state_badge_class(state()))
                      data-testid="state">{move || state().as_str()}</span>
                <a class="text-sm text-blue-700 hover:underline" href=format!("{job_path}/logs")>"Logs"</a>
                <label class="ml-auto flex items-center gap-1.5 text-sm text-gray-600">
                    "Time range"
                    <select class="rounded border border-gray-300 bg-white px-2 py-0.5 text-sm" on:change=on_range data-testid="range">
                        {RANGES.into_iter().map(|(value, label)| {
                            view! { <option value=value selected=move || range.get() == value>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </header>
            {move || match load.get() {
                Load::Loading => view! { <p class="text-sm text-gray-500" data-testid="metrics-loading">"Loading the metrics…"</p> }.into_any(),
                Load::Failed(message) => view! {
                    <p class="rounded border border-red-200 bg-red-50 p-2 text-sm text-red-800" role="alert" data-testid="metrics-error">
                        {format!("The metrics could not be loaded: {message}")}
                    </p>
                }.into_any(),
                Load::Loaded(m) => view! { <SourceNote metrics=*m/> }.into_any(),
            }}
            <div class="grid grid-cols-1 gap-3 xl:grid-cols-2">
                {ChartKind::ALL.into_iter().map(|kind| view! { <ChartPanel kind metrics=Signal::derive(metrics) detail/> }).collect_view()}
            </div>
            <OomKills metrics=Signal::derive(metrics) detail/>
            <executors::ExecutorTable metrics=Signal::derive(metrics) detail job_path=job_path.clone()/>
        </div>
    }
    .into_any()
}

/// Where the numbers come from, what range they span, and what they leave out.
#[component]
fn SourceNote(metrics: JobMetrics) -> impl IntoView {
    let source = match metrics.source {
        MetricsSource::Prometheus => "Prometheus (cAdvisor and kube-state-metrics)".to_string(),
        MetricsSource::MetricsServer => match metrics.history_since {
            Some(since) => format!(
                "metrics-server, sampled while this job is watched: history starts when watching started ({} UTC)",
                format::timestamp(Some(since))
            ),
            None => "metrics-server, sampled while this job is watched: history starts now".to_string(),
        },
        MetricsSource::None => "no metrics source is configured: requests, limits and OOM kills only".to_string(),
    };
    let span = format!(
        "{} to {} UTC, a point every {}",
        format::timestamp(Some(metrics.from)),
        format::timestamp(Some(metrics.to)),
        format::duration(Some(metrics.step_s))
    );
    let folded = metrics.summary.map(|s| {
        format!(
            "{} executors: {} drawn alone (OOM-killed first, then closest to their limit), all of them as max, median and min.",
            s.executors,
            s.shown.len()
        )
    });
    view! {
        <p class="text-sm text-gray-600" data-testid="metrics-source" data-source=format!("{:?}", metrics.source)>
            {format!("From {source}; {span}.")}
            {folded.map(|f| view! { <span class="ml-1" data-testid="metrics-summary">{f}</span> })}
        </p>
    }
}

/// One chart, or why it is missing.
#[component]
fn ChartPanel(kind: ChartKind, metrics: Signal<Option<JobMetrics>>, detail: RwSignal<JobDetail>) -> impl IntoView {
    let data = Memo::new(move |_| metrics.with(|m| m.as_ref().map(|m| detail.with(|d| chart::chart(kind, m, &d.pods)))));
    let errors = Memo::new(move |_| {
        metrics.with(|m| {
            m.as_ref()
                .map(|m| m.errors.iter().filter(|e| panel_feeds(e.panel, kind)).map(|e| e.message.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="rounded border border-gray-200 bg-white p-3" data-testid=format!("chart-{}", kind.id())>
            <h2 class="mb-1 font-semibold">{kind.title()}</h2>
            <For each=move || errors.get() key=|m| m.clone() let:message>
                <p class="mb-1 rounded bg-amber-50 p-1.5 text-sm text-amber-900" role="alert" data-testid="panel-error">{message}</p>
            </For>
            {move || match data.get() {
                None => view! { <div class="h-64"></div> }.into_any(),
                Some(chart) if !chart.has_data() => view! {
                    <p class="flex h-64 items-center justify-center text-sm text-gray-500" data-testid="chart-empty">
                        {if kind == ChartKind::Throttling { "No container of this job has a CPU limit, or none was throttled." } else { "No data in this range." }}
                    </p>
                }.into_any(),
                Some(chart) => {
                    let (from, to) = metrics.with(|m| m.as_ref().map(|m| (m.from, m.to))).unwrap_or_default();
                    view! { <plot::Plot chart from to/> }.into_any()
                }
            }}
        </section>
    }
}

/// Whether a panel error concerns chart `kind`.
fn panel_feeds(panel: Panel, kind: ChartKind) -> bool {
    matches!(
        (panel, kind),
        (Panel::Memory, ChartKind::Memory)
            | (Panel::Cpu, ChartKind::Cpu)
            | (Panel::Throttling, ChartKind::Throttling)
            | (Panel::Resources, ChartKind::Memory | ChartKind::Cpu)
    )
}

/// The OOM kills, in words: which container, when, against which limit.
#[component]
fn OomKills(metrics: Signal<Option<JobMetrics>>, detail: RwSignal<JobDetail>) -> impl IntoView {
    let kills = Memo::new(move |_| metrics.with(|m| m.as_ref().map(|m| (m.events.clone(), m.limits.clone())).unwrap_or_default()));
    move || {
        let (events, limits) = kills.get();
        (!events.is_empty()).then(|| {
            let rows = events
                .into_iter()
                .map(|kill| {
                    let label = detail.with(|d| chart::pod_label(&kill.pod, &d.pods));
                    let limit = limits
                        .get(&kill.pod)
                        .and_then(|c| kill.container.as_ref().and_then(|name| c.get(name)).or_else(|| c.values().next()))
                        .and_then(|r| r.memory)
                        .map(|m| format!(", limit {}", format::quantity(m, crate::api::MetricUnit::Bytes)))
                        .unwrap_or_default();
                    let why = kill.reason.clone().or(kill.exit_code.map(|c| format!("exit code {c}"))).unwrap_or_default();
                    view! {
                        <li data-testid="oom-kill" data-pod=kill.pod.clone()>
                            <span class="font-semibold text-red-700">{format!("⚠ {label}")}</span>
                            {format!(
                                " (container {}) killed for memory at {} UTC: {why}{limit}",
                                kill.container.clone().unwrap_or_else(|| "?".into()),
                                format::timestamp(kill.time)
                            )}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-900" data-testid="oom-kills">
                    <h2 class="mb-1 font-semibold">"OOM kills"</h2>
                    <ul class="list-none">{rows}</ul>
                </section>
            }
        })
    }
}

/// The browser's side: the job's stream (state, pods), and the metrics for the range, again
/// every [`REFRESH`] while the job runs.
#[cfg(feature = "hydrate")]
fn wire_up(detail: RwSignal<JobDetail>, range: RwSignal<String>, load: RwSignal<Load>, job_path: String) {
    use crate::logs::fetch::{self, FetchError};
    use leptos::task::spawn_local;

    let api = format!("/api/v1{job_path}");
    let subscription = StoredValue::new_local(None::<crate::live::Subscription>);
    let stream = format!("{api}/stream");
    Effect::new(move |_| {
        subscription.set_value(crate::live::subscribe(
            &stream,
            move |d: Option<JobDetail>| {
                if let Some(d) = d {
                    detail.set(d);
                }
            },
            |_| {},
        ));
    });
    let generation = StoredValue::new(0u64);
    // Stored, so that the fetching closure is `Copy` and serves every effect below.
    let api = StoredValue::new(api);
    let fetch_now = move || {
        let Ok(controller) = web_sys::AbortController::new() else { return };
        let (job, span) = (detail.with_untracked(|d| d.job.clone()), range.get_untracked());
        let mut url = format!("{}/metrics?summarise={KEEP_EXECUTORS}", api.get_value());
        if !span.is_empty() {
            // The last part of the run: before its end for a finished job, before now otherwise.
            match job.finished_at {
                Some(end) => {
                    let seconds = crate::query::TimeBound::parse(&span).map(|b| b.resolve(end)).ok();
                    if let Some(from) = seconds {
                        url.push_str(&format!("&from={}", crate::query::encode(&from.to_string())));
                    }
                }
                None => url.push_str(&format!("&from={span}")),
            }
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let result: Result<JobMetrics, FetchError> = fetch::json(&url, &controller.signal()).await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            match result {
                Ok(m) => load.set(Load::Loaded(Box::new(m))),
                Err(FetchError::Status { status, message }) => load.set(Load::Failed(format!("HTTP {status}: {message}"))),
                Err(FetchError::Network(message)) => load.set(Load::Failed(message)),
                Err(FetchError::Aborted) => {}
            }
        });
    };
    // A new range: ask at once, and put it in the address (shareable, kept on reload).
    Effect::new(move |_| {
        let span = range.get();
        set_range_in_address(&span);
        fetch_now();
    });
    // The job just ended: once more, for its last points and its end as the range's end.
    Effect::new(move |was_running: Option<bool>| {
        let running = detail.with(|d| !d.job.state.is_terminal());
        if was_running == Some(true) && !running {
            fetch_now();
        }
        running
    });
    let running = move || detail.with_untracked(|d| !d.job.state.is_terminal());
    let sampled = move || load.with_untracked(|l| matches!(l, Load::Loaded(m) if m.source == MetricsSource::MetricsServer));
    let ticks = StoredValue::new(0u32);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            ticks.update_value(|t| *t = t.wrapping_add(1));
            if running() && (sampled() || ticks.get_value().is_multiple_of(3)) {
                fetch_now();
            }
        },
        REFRESH,
    ) {
        on_cleanup(move || handle.clear());
    }
    on_cleanup(move || subscription.set_value(None));
}

/// Puts `?range=` in the address without a history entry (none for the whole run).
#[cfg(feature = "hydrate")]
fn set_range_in_address(span: &str) {
    let Some(window) = web_sys::window() else { return };
    let path = window.location().pathname().unwrap_or_default();
    let url = if span.is_empty() { path } else { format!("{path}?range={}", crate::query::encode(span)) };
    if let Ok(history) = window.history() {
        let state = history.state().unwrap_or(wasm_bindgen::JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(&url));
    }
}
