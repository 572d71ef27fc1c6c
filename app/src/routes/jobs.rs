//! `/`: every Spark job, kept current by server push.
//!
//! The server renders the list it has; once hydrated, the page subscribes to the jobs stream,
//! whose first message is a fresh snapshot, so nothing that changed between render and
//! subscription is missed.

use crate::api::{Job, JobChange, JobState, sort_newest_first};
use crate::format;
use leptos::prelude::*;

/// Every job the server knows, newest submission first.
#[server(prefix = "/_fn")]
pub async fn list_jobs() -> Result<Vec<Job>, ServerFnError> {
    Ok(expect_context::<crate::ssr::Jobs>().0.jobs())
}

/// Where the live subscription stands, shown beside the counts.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    Reconnecting,
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let initial = Resource::new(|| (), |_| list_jobs());
    // `None` until the first live snapshot: server render and hydration both show `initial`.
    let live: RwSignal<Option<Vec<Job>>> = RwSignal::new(None);
    let status = RwSignal::new(LiveStatus::Connecting);
    // Running jobs' durations tick with this clock, without a message from the server.
    let now = RwSignal::new(jiff::Timestamp::now());
    #[cfg(feature = "hydrate")]
    {
        let tick = move || now.set(jiff::Timestamp::now());
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    }

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        crate::live::subscribe_jobs(
            move |change| live.update(|jobs| apply_change(jobs, change)),
            move |up| status.set(if up { LiveStatus::Live } else { LiveStatus::Reconnecting }),
        );
    });

    let jobs = move || live.get().or_else(|| initial.get().and_then(Result::ok)).unwrap_or_default();

    view! {
        <Suspense fallback=|| view! { <p class="text-gray-500">"Loading jobs…"</p> }>
            {move || {
                let error = initial.get().and_then(Result::err);
                view! {
                    {error.map(|e| view! {
                        <p class="rounded bg-red-50 p-2 text-red-800">{format!("Could not load jobs: {e}")}</p>
                    })}
                    <StateCounts jobs=Signal::derive(jobs) status=status.into()/>
                    <JobsTable jobs=Signal::derive(jobs) now=now.into()/>
                }
            }}
        </Suspense>
    }
}

/// Folds one stream message into the page's list, keeping newest-first order.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn apply_change(jobs: &mut Option<Vec<Job>>, change: JobChange) {
    match change {
        JobChange::Snapshot { jobs: snapshot } => *jobs = Some(snapshot),
        JobChange::Upsert { job } => {
            let list = jobs.get_or_insert_with(Vec::new);
            match list.iter_mut().find(|j| j.namespace == job.namespace && j.name == job.name) {
                Some(existing) => *existing = job,
                None => list.push(job),
            }
            sort_newest_first(list);
        }
        JobChange::Delete { namespace, name } => {
            if let Some(list) = jobs {
                list.retain(|j| !(j.namespace == namespace && j.name == name));
            }
        }
    }
}

#[component]
fn StateCounts(jobs: Signal<Vec<Job>>, status: Signal<LiveStatus>) -> impl IntoView {
    let counts = move || {
        let jobs = jobs.get();
        JobState::ALL
            .into_iter()
            .filter_map(|state| {
                let n = jobs.iter().filter(|j| j.state == state).count();
                (n > 0).then_some((state, n))
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-2 text-sm">
            <span class="font-medium" data-testid="total">{move || format!("{} jobs", jobs.get().len())}</span>
            {move || counts().into_iter().map(|(state, n)| view! {
                <span class=format!("rounded px-2 py-0.5 ring-1 ring-inset {}", format::state_badge_class(state))
                      data-count=state.as_str()>
                    {format!("{state} {n}")}
                </span>
            }).collect_view()}
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

#[component]
fn JobsTable(jobs: Signal<Vec<Job>>, now: Signal<jiff::Timestamp>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded border border-gray-200 bg-white">
            <table class="min-w-full text-sm" data-testid="jobs">
                <thead class="bg-gray-100 text-left text-xs uppercase tracking-wide text-gray-600">
                    <tr>
                        <th class="px-3 py-2">"Name"</th>
                        <th class="px-3 py-2">"Namespace"</th>
                        <th class="px-3 py-2">"State"</th>
                        <th class="px-3 py-2">"User"</th>
                        <th class="px-3 py-2">"Submitted (UTC)"</th>
                        <th class="px-3 py-2 text-right">"Duration"</th>
                        <th class="px-3 py-2 text-right">"Executors"</th>
                        <th class="px-3 py-2">"Failure"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-gray-100">
                    {move || jobs.get().into_iter().map(|job| view! { <JobRow job now/> }).collect_view()}
                </tbody>
            </table>
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
        <tr class="hover:bg-gray-50" data-job=job.id() data-state=job.state.as_str()>
            <td class="whitespace-nowrap px-3 py-1.5 font-medium">
                <a class="text-blue-700 hover:underline" href=format!("/jobs/{}/{}", job.namespace, job.name)>{job.name.clone()}</a>
            </td>
            <td class="px-3 py-1.5 text-gray-600">{job.namespace.clone()}</td>
            <td class="px-3 py-1.5">
                <span class=format!("rounded px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", format::state_badge_class(job.state))
                      data-testid="state">
                    {job.state.as_str()}
                </span>
            </td>
            <td class="px-3 py-1.5 text-gray-600">{job.user.clone().unwrap_or_default()}</td>
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ExecutorCounts;

    fn job(name: &str, submitted: i64, state: JobState) -> Job {
        Job {
            namespace: "ns".into(),
            name: name.into(),
            state,
            app_id: None,
            user: None,
            submitted_at: Some(jiff::Timestamp::from_second(submitted).unwrap()),
            started_at: None,
            finished_at: None,
            duration_s: None,
            executors: ExecutorCounts::default(),
            failure: None,
            airflow: None,
        }
    }

    #[test]
    fn changes_fold_into_a_sorted_list() {
        let mut list = None;
        apply_change(&mut list, JobChange::Snapshot { jobs: vec![job("a", 10, JobState::Running)] });
        apply_change(&mut list, JobChange::Upsert { job: job("b", 20, JobState::Submitted) });
        apply_change(&mut list, JobChange::Upsert { job: job("a", 10, JobState::Completed) });
        let names: Vec<_> = list.as_ref().unwrap().iter().map(|j| (j.name.as_str(), j.state)).collect();
        assert_eq!(names, [("b", JobState::Submitted), ("a", JobState::Completed)]);
        apply_change(&mut list, JobChange::Delete { namespace: "ns".into(), name: "b".into() });
        assert_eq!(list.unwrap().len(), 1);
    }
}
