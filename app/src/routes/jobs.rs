//! `/`: the jobs list: filters, sort and page in the URL, counts per state, kept current by
//! server push.
//!
//! The URL is the state: every filter, sort and page change is a navigation, so the back button,
//! a reload and a shared link all show the same view. The server renders the page the URL names;
//! once hydrated, the page subscribes to the stream of that same view, whose first message is
//! the current page, so nothing that changed between render and subscription is missed.

use crate::api::{Job, JobList, JobState};
use crate::format;
use crate::query::{JobQuery, Sort, SortField, TimeBound};
use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_navigate, use_query_map};

/// One page of the jobs that match `query` (a URL query string).
#[server(prefix = "/_fn")]
pub async fn list_jobs(query: String) -> Result<JobList, ServerFnError> {
    let query = JobQuery::from_query_string(&query).map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(expect_context::<crate::ssr::Jobs>().0.jobs(&query))
}

/// Where the live subscription stands, shown beside the counts.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    Reconnecting,
}

/// The time ranges the filter offers (any other value works in the URL too).
const RANGES: [(&str, &str); 7] = [
    ("", "any time"),
    ("15m", "last 15 minutes"),
    ("1h", "last hour"),
    ("6h", "last 6 hours"),
    ("24h", "last 24 hours"),
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
];

#[component]
pub fn JobsPage() -> impl IntoView {
    let query_map = use_query_map();
    // The raw query string; the one input everything else derives from.
    let raw = Memo::new(move |_| query_map.with(|m| m.to_query_string().trim_start_matches('?').to_string()));
    let parsed = Memo::new(move |_| JobQuery::from_query_string(&raw.get()));
    let query = Signal::derive(move || parsed.get().unwrap_or_default());
    let initial = Resource::new(move || raw.get(), list_jobs);
    // The stream's latest page for the current query; `None` until its first message.
    let live: RwSignal<Option<JobList>> = RwSignal::new(None);
    let status = RwSignal::new(LiveStatus::Connecting);
    // Running jobs' durations tick with this clock, without a message from the server.
    let now = RwSignal::new(jiff::Timestamp::now());

    #[cfg(feature = "hydrate")]
    {
        let tick = move || now.set(jiff::Timestamp::now());
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
        let subscription = StoredValue::new_local(None::<crate::live::Subscription>);
        Effect::new(move |_| {
            let qs = raw.get();
            live.set(None);
            status.set(LiveStatus::Connecting);
            let url = if qs.is_empty() { "/api/v1/jobs/stream".to_string() } else { format!("/api/v1/jobs/stream?{qs}") };
            let opened = crate::live::subscribe(
                &url,
                move |list: JobList| live.set(Some(list)),
                move |up| status.set(if up { LiveStatus::Live } else { LiveStatus::Reconnecting }),
            );
            subscription.set_value(opened);
        });
        on_cleanup(move || subscription.set_value(None));
    }

    // While a new view loads, the previous one stays on screen (no blank table in between).
    let list = Memo::new(move |previous: Option<&JobList>| {
        live.get().or_else(|| initial.get().and_then(Result::ok)).or_else(|| previous.cloned()).unwrap_or_default()
    });
    let list = Signal::from(list);

    view! {
        <Filters query list/>
        {move || parsed.get().err().map(|e| view! {
            <p class="mb-3 rounded bg-red-50 p-2 text-sm text-red-800" data-testid="query-error">
                {format!("This link's filters do not parse: {e}. ")}
                <a class="underline" href="/">"Show all jobs"</a>
            </p>
        })}
        <Suspense fallback=|| view! { <p class="text-gray-500">"Loading jobs…"</p> }>
            {move || {
                let error = initial.get().and_then(Result::err);
                view! {
                    {error.map(|e| view! {
                        <p class="mb-3 rounded bg-red-50 p-2 text-sm text-red-800">{format!("Could not load jobs: {e}")}</p>
                    })}
                    <Warnings list/>
                    <StateCounts query list status=status.into()/>
                    <JobsTable query list now=now.into()/>
                    <Pager query list/>
                }
            }}
        </Suspense>
    }
}

/// The filter bar: a plain GET form, so it works before hydration too; selects apply on change.
#[component]
fn Filters(query: Signal<JobQuery>, list: Signal<JobList>) -> impl IntoView {
    let navigate = use_navigate();
    let go = move |q: JobQuery| navigate(&q.first_page().href(), Default::default());
    let on_namespace = {
        let go = go.clone();
        move |ev| {
            let value = event_target_value(&ev);
            let mut q = query.get_untracked();
            q.namespaces = if value.is_empty() { Vec::new() } else { vec![value] };
            go(q);
        }
    };
    let on_range = move |ev| {
        let value = event_target_value(&ev);
        let mut q = query.get_untracked();
        q.since = TimeBound::parse(&value).ok();
        go(q);
    };
    let since = move || query.get().since.map(TimeBound::as_param).unwrap_or_default();
    let states = move || query.get().states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
    let input = "rounded border border-gray-300 bg-white px-2 py-1 text-sm";
    view! {
        <Form method="GET" action="/" attr:class="mb-3 flex flex-wrap items-center gap-2" attr:data-testid="filters">
            <input type="search" name="q" placeholder="Search name, app id or DAG" class=format!("{input} w-72")
                   prop:value=move || query.get().q.unwrap_or_default() data-testid="filter-q"/>
            <input type="text" name="user" placeholder="User" class=format!("{input} w-32")
                   prop:value=move || query.get().user.unwrap_or_default() data-testid="filter-user"/>
            <select name="namespace" class=input on:change=on_namespace data-testid="filter-namespace">
                <option value="" selected=move || query.get().namespaces.is_empty()>"all namespaces"</option>
                {move || list.get().namespaces.into_iter().map(|ns| {
                    let selected = query.get().namespaces.contains(&ns);
                    view! { <option value=ns.clone() selected=selected>{ns.clone()}</option> }
                }).collect_view()}
            </select>
            <select name="since" class=input on:change=on_range data-testid="filter-since">
                {RANGES.into_iter().map(|(value, label)| view! {
                    <option value=value selected=move || since() == value>{label}</option>
                }).collect_view()}
                {move || {
                    let current = since();
                    (!RANGES.iter().any(|(v, _)| *v == current)).then(|| view! { <option value=current.clone() selected=true>{format!("since {current}")}</option> })
                }}
            </select>
            // Kept across a search: the state chips and the sort are not form fields.
            <input type="hidden" name="state" prop:value=states/>
            <input type="hidden" name="sort" prop:value=move || { let s = query.get().sort; if s == Sort::default() { String::new() } else { s.as_param() } }/>
            <button type="submit" class="rounded bg-gray-800 px-3 py-1 text-sm text-white hover:bg-gray-700">"Search"</button>
            <a href="/" class="text-sm text-gray-600 hover:underline">"Clear"</a>
        </Form>
    }
}

/// Banners for what the list may be missing (an unreachable archive, say).
#[component]
fn Warnings(list: Signal<JobList>) -> impl IntoView {
    move || {
        list.get()
            .warnings
            .into_iter()
            .map(|w| {
                view! {
                    <p class="mb-3 rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" data-testid="warning">{w}</p>
                }
            })
            .collect_view()
    }
}

/// State chips: how many jobs each state has under the other filters; a click toggles it.
#[component]
fn StateCounts(query: Signal<JobQuery>, list: Signal<JobList>, status: Signal<LiveStatus>) -> impl IntoView {
    let chips = move || {
        let q = query.get();
        let list = list.get();
        JobState::ALL
            .into_iter()
            .filter_map(|state| {
                let n = list.counts.get(&state).copied().unwrap_or(0);
                let on = q.states.contains(&state);
                if n == 0 && !on {
                    return None;
                }
                let mut toggled = q.first_page();
                if on {
                    toggled.states.retain(|s| *s != state);
                } else {
                    toggled.states.push(state);
                }
                let ring = if on { "ring-2 ring-gray-800" } else { "ring-1 ring-inset" };
                Some(view! {
                    <A href=toggled.href() attr:class=format!("rounded px-2 py-0.5 {ring} {}", format::state_badge_class(state))
                       attr:data-count=state.as_str() attr:data-on=on.to_string()>
                        {format!("{state} {n}")}
                    </A>
                })
            })
            .collect_view()
    };
    let all_states = move || JobQuery { states: Vec::new(), ..query.get().first_page() }.href();
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-2 text-sm">
            <span class="font-medium" data-testid="total">{move || {
                let l = list.get();
                format!("{} {}", l.total, if l.total == 1 { "job" } else { "jobs" })
            }}</span>
            {move || (!query.get().states.is_empty()).then(|| view! {
                <A href=all_states attr:class="text-gray-600 underline">"all states"</A>
            })}
            {chips}
            <span class="ml-auto text-xs text-gray-500" data-testid="live-status">
                {move || match status.get() {
                    LiveStatus::Connecting => "connecting…",
                    LiveStatus::Live => "● live",
                    LiveStatus::Reconnecting => "reconnecting…",
                }}
            </span>
        </div>
    }
}

/// A column header that sorts by its field; a second click reverses.
#[component]
fn SortHeader(query: Signal<JobQuery>, field: SortField, label: &'static str, #[prop(optional)] right: bool) -> impl IntoView {
    let href = move || {
        let q = query.get();
        let descending = if q.sort.field == field { !q.sort.descending } else { field.natural_descending() };
        JobQuery { sort: Sort { field, descending }, ..q.first_page() }.href()
    };
    let arrow = move || {
        let s = query.get().sort;
        if s.field != field {
            ""
        } else if s.descending {
            " ↓"
        } else {
            " ↑"
        }
    };
    view! {
        <th class=if right { "px-3 py-2 text-right" } else { "px-3 py-2" }>
            <A href=href attr:class="hover:text-gray-900" attr:data-sort=field.as_str()>{label}{arrow}</A>
        </th>
    }
}

#[component]
fn JobsTable(query: Signal<JobQuery>, list: Signal<JobList>, now: Signal<jiff::Timestamp>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded border border-gray-200 bg-white">
            <table class="min-w-full text-sm" data-testid="jobs">
                <thead class="bg-gray-100 text-left text-xs uppercase tracking-wide text-gray-600">
                    <tr>
                        <SortHeader query field=SortField::Name label="Name"/>
                        <SortHeader query field=SortField::Namespace label="Namespace"/>
                        <SortHeader query field=SortField::State label="State"/>
                        <SortHeader query field=SortField::User label="User"/>
                        <SortHeader query field=SortField::Submitted label="Submitted (UTC)"/>
                        <SortHeader query field=SortField::Duration label="Duration" right=true/>
                        <SortHeader query field=SortField::Executors label="Executors" right=true/>
                        <th class="px-3 py-2">"Failure"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-gray-100">
                    {move || list.get().jobs.into_iter().map(|job| view! { <JobRow job now/> }).collect_view()}
                </tbody>
            </table>
            {move || list.get().jobs.is_empty().then(|| view! {
                <p class="p-4 text-sm text-gray-500" data-testid="empty">"No job matches these filters."</p>
            })}
        </div>
    }
}

#[component]
fn JobRow(job: Job, now: Signal<jiff::Timestamp>) -> impl IntoView {
    let e = job.executors;
    // Running: how many of the requested executors are up. Finished: how many there were.
    let executors =
        if job.state.is_terminal() { format!("{} ran", e.completed + e.failed) } else { format!("{}/{}", e.running, e.requested) };
    let executors_title = format!(
        "running {} · requested {} · completed {} · failed {} · OOMKilled {}",
        e.running, e.requested, e.completed, e.failed, e.oom_killed
    );
    let failure = job.failure.as_ref().map(|f| format!("{}: {}", f.reason, f.message));
    let duration = {
        let job = job.clone();
        move || format::duration(job.duration_at(now.get()))
    };
    view! {
        <tr class="hover:bg-gray-50" data-job=job.id() data-state=job.state.as_str() data-deleted=job.deleted_from_cluster.to_string()>
            <td class="whitespace-nowrap px-3 py-1.5 font-medium">
                <a class="text-blue-700 hover:underline" href=format!("/jobs/{}/{}", job.namespace, job.name)>{job.name.clone()}</a>
                {job.deleted_from_cluster.then(|| view! {
                    <span class="ml-2 rounded bg-gray-100 px-1 text-xs font-normal text-gray-500"
                          title="Deleted from Kubernetes; shown from sparkboard's records">"archived"</span>
                })}
            </td>
            <td class="px-3 py-1.5 text-gray-600">{job.namespace.clone()}</td>
            <td class="px-3 py-1.5">
                <span class=format!("rounded px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", format::state_badge_class(job.state))
                      data-testid="state">
                    {job.state.as_str()}
                </span>
            </td>
            <td class="px-3 py-1.5 text-gray-600">
                {job.user.clone().unwrap_or_default()}
                {job.team.clone().map(|team| view! { <span class="ml-1 text-xs text-gray-400">{team}</span> })}
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 font-mono text-xs text-gray-600">{format::timestamp(job.submitted_at)}</td>
            <td class="whitespace-nowrap px-3 py-1.5 text-right font-mono text-xs" data-testid="duration">{duration}</td>
            <td class="px-3 py-1.5 text-right font-mono text-xs" title=executors_title>
                {executors}
                {(e.oom_killed > 0).then(|| view! {
                    <span class="ml-1 rounded bg-red-100 px-1 text-red-800">{format!("{} OOM", e.oom_killed)}</span>
                })}
            </td>
            <td class="max-w-md truncate px-3 py-1.5 text-red-800" title=failure.clone().unwrap_or_default()>
                {failure.clone().unwrap_or_default()}
            </td>
        </tr>
    }
}

/// Newer and older pages, by cursor, so a page stays put while jobs arrive.
#[component]
fn Pager(query: Signal<JobQuery>, list: Signal<JobList>) -> impl IntoView {
    let link = move |cursor: Option<String>| {
        cursor.and_then(|c| crate::query::Cursor::parse(&c).ok()).map(|c| JobQuery { cursor: Some(c), ..query.get() }.href())
    };
    let button = "rounded border border-gray-300 bg-white px-3 py-1 hover:bg-gray-50";
    view! {
        <nav class="mt-3 flex items-center gap-3 text-sm" data-testid="pager">
            {move || link(list.get().prev).map(|href| view! { <A href=href attr:class=button attr:data-testid="prev">"← Previous"</A> })}
            {move || (query.get().cursor.is_some()).then(|| view! { <A href=query.get().first_page().href() attr:class="text-gray-600 underline">"First page"</A> })}
            {move || link(list.get().next).map(|href| view! { <A href=href attr:class=button attr:data-testid="next">"Next →"</A> })}
            <span class="ml-auto text-gray-500">{move || format!("{} per page", query.get().page_size())}</span>
        </nav>
    }
}
