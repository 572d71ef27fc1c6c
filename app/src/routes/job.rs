//! `/jobs/{namespace}/{name}`: one job whole: state and times, the failure in plain words, its
//! pods, its events and its Spark configuration. Once hydrated it follows the job's own stream,
//! so a running job stays current without a reload; a job Kubernetes deleted is shown from
//! sparkboard's records.

use super::not_found::NoSuchJob;
use crate::api::{Event, JobDetail, Pod, PodRole};
use crate::format;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// One job with its pods, events and Spark configuration; `None` when unknown.
#[server(prefix = "/_fn")]
pub async fn get_job(namespace: String, name: String) -> Result<Option<JobDetail>, ServerFnError> {
    Ok(expect_context::<crate::ssr::Jobs>().0.job(namespace, name).await)
}

/// A page about one job (its log, its metrics): loads the job the address names and shows
/// `page` of it, titled `what`; a job the dashboard does not know is the 404 page, a failed load
/// says so.
pub fn job_subpage(what: &'static str, page: impl Fn(JobDetail) -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| (p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default())));
    let job = Resource::new(move || id.get(), |(namespace, name)| get_job(namespace, name));
    let title = move || format!("{what} · {} · sparkboard", id.get().1);
    view! {
        <leptos_meta::Title text=title/>
        <Suspense fallback=|| view! { <p class="text-gray-500">"Loading the job…"</p> }>
            {move || job.get().map(|result| match result {
                Ok(Some(detail)) => page(detail),
                Ok(None) => {
                    let (namespace, name) = id.get();
                    view! { <NoSuchJob what=format!("The dashboard knows no job {namespace}/{name}.")/> }.into_any()
                }
                Err(e) => view! { <p class="rounded bg-red-50 p-2 text-red-800">{format!("Could not load the job: {e}")}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| (p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default())));
    let initial = Resource::new(move || id.get(), |(namespace, name)| get_job(namespace, name));
    // The job's stream: `Some(detail)` after its first message (`Some(None)`: no such job).
    let live: RwSignal<Option<Option<JobDetail>>> = RwSignal::new(None);

    #[cfg(feature = "hydrate")]
    {
        let subscription = StoredValue::new_local(None::<crate::live::Subscription>);
        Effect::new(move |_| {
            let (namespace, name) = id.get();
            live.set(None);
            let url = format!("/api/v1/jobs/{}/{}/stream", crate::query::encode(&namespace), crate::query::encode(&name));
            subscription.set_value(crate::live::subscribe(&url, move |detail: Option<JobDetail>| live.set(Some(detail)), |_| {}));
        });
        on_cleanup(move || subscription.set_value(None));
    }

    let current = move || match live.get() {
        Some(detail) => Some(Ok(detail)),
        None => initial.get(),
    };
    view! {
        <Suspense fallback=|| view! { <p class="text-gray-500">"Loading the job…"</p> }>
            {move || current().map(|result| match result {
                Ok(Some(detail)) => view! { <JobView detail/> }.into_any(),
                Ok(None) => {
                    let (namespace, name) = id.get();
                    view! { <NoSuchJob what=format!("The dashboard knows no job {namespace}/{name}.")/> }.into_any()
                }
                Err(e) => view! { <p class="rounded bg-red-50 p-2 text-red-800">{format!("Could not load the job: {e}")}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn JobView(detail: JobDetail) -> impl IntoView {
    let job = detail.job.clone();
    let fact = |label: &'static str, value: String| {
        view! {
            <div>
                <dt class="text-xs uppercase tracking-wide text-gray-500">{label}</dt>
                <dd class="font-mono text-sm">{value}</dd>
            </div>
        }
    };
    view! {
        <article data-testid="job" data-state=job.state.as_str()>
            <header class="mb-4 flex flex-wrap items-center gap-3">
                <h1 class="text-xl font-semibold">{job.name.clone()}</h1>
                <span class=format!("rounded px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {}", format::state_badge_class(job.state))
                      data-testid="state">{job.state.as_str()}</span>
                <span class="text-sm text-gray-600">{format!("namespace {}", job.namespace)}</span>
                <nav class="ml-auto flex gap-3 text-sm text-gray-400">
                    <a class="text-blue-700 hover:underline" data-testid="logs-link"
                       href=format!("/jobs/{}/{}/logs", job.namespace, job.name)>"Logs"</a>
                    <a class="text-blue-700 hover:underline" data-testid="metrics-link"
                       href=format!("/jobs/{}/{}/metrics", job.namespace, job.name)>"Metrics"</a>
                    // Running: the live UI. Finished: the History Server's view, same URL.
                    {if job.state == crate::api::JobState::Running || (job.state.is_terminal() && job.app_id.is_some()) {
                        view! {
                            <a class="text-blue-700 hover:underline" data-testid="spark-ui" rel="external"
                               href=format!("/jobs/{}/{}/ui/", job.namespace, job.name)>"Spark UI"</a>
                        }.into_any()
                    } else {
                        view! { <span title="no Spark application yet">"Spark UI"</span> }.into_any()
                    }}
                </nav>
            </header>
            {job.deleted_from_cluster.then(|| view! {
                <p class="mb-4 rounded border border-gray-200 bg-gray-100 p-2 text-sm text-gray-700" data-testid="deleted">
                    "Kubernetes no longer has this job; this is sparkboard's record of it."
                </p>
            })}
            {detail.warnings.iter().map(|w| view! {
                <p class="mb-4 rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" data-testid="warning">{w.clone()}</p>
            }).collect_view()}
            {job.failure.clone().map(|f| view! {
                <div class="mb-4 rounded border border-red-200 bg-red-50 p-3 text-red-900" data-testid="failure">
                    <div class="font-semibold">{f.reason}</div>
                    <div class="text-sm">{f.message}</div>
                </div>
            })}
            <dl class="mb-6 grid grid-cols-2 gap-3 rounded border border-gray-200 bg-white p-3 md:grid-cols-4">
                {fact("Spark app id", job.app_id.clone().unwrap_or_else(|| "—".into()))}
                {fact("User", job.user.clone().unwrap_or_else(|| "—".into()))}
                {fact("Team", job.team.clone().unwrap_or_else(|| "—".into()))}
                {fact("Submitted (UTC)", format::timestamp(job.submitted_at))}
                {fact("Started (UTC)", format::timestamp(job.started_at))}
                {fact("Finished (UTC)", format::timestamp(job.finished_at))}
                {fact("Duration", format::duration(job.duration_s))}
                {fact("Executors", format!("{} running of {} · {} done · {} failed · {} OOMKilled",
                    job.executors.running, job.executors.requested, job.executors.completed, job.executors.failed, job.executors.oom_killed))}
                {fact("Schedule", match (&detail.schedule, &job.scheduled_by) {
                    (Some(s), _) => format!("run of {} ({}{}) · next {}", s.name, s.schedule.clone().unwrap_or_default(),
                        if s.suspended { ", suspended" } else { "" }, format::timestamp(s.next_run)),
                    (None, Some(name)) => format!("run of {name}"),
                    (None, None) => "—".into(),
                })}
                {fact("Airflow", job.airflow.clone().map(|a| format!("{}.{} {}", a.dag_id, a.task_id, a.run_id)).unwrap_or_else(|| "—".into()))}
            </dl>
            <Section title="Pods"><PodsTable pods=detail.pods.clone()/></Section>
            <Section title="Events"><EventsTable events=detail.events.clone()/></Section>
            <Section title="Spark configuration">
                <table class="min-w-full text-sm" data-testid="spark-conf">
                    <tbody class="divide-y divide-gray-100">
                        {detail.spark_conf.iter().map(|(k, v)| view! {
                            <tr><td class="px-3 py-1 font-mono text-xs text-gray-600">{k.clone()}</td><td class="px-3 py-1 font-mono text-xs">{v.clone()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </Section>
        </article>
    }
}

#[component]
fn Section(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="mb-6">
            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-gray-600">{title}</h2>
            <div class="overflow-x-auto rounded border border-gray-200 bg-white">{children()}</div>
        </section>
    }
}

#[component]
fn PodsTable(pods: Vec<Pod>) -> impl IntoView {
    let head = ["Role", "Name", "Node", "Instance", "Capacity", "Phase", "Restarts", "Exit", "Started", "Finished"];
    view! {
        <table class="min-w-full text-sm" data-testid="pods">
            <thead class="bg-gray-100 text-left text-xs uppercase tracking-wide text-gray-600">
                <tr>{head.map(|h| view! { <th class="px-3 py-2">{h}</th> }).collect_view()}</tr>
            </thead>
            <tbody class="divide-y divide-gray-100">
                {pods.into_iter().map(|p| {
                    let exit = match (p.exit_code, p.reason.clone()) {
                        (Some(code), Some(reason)) => format!("{code} {reason}"),
                        (Some(code), None) => code.to_string(),
                        (None, Some(reason)) => reason,
                        (None, None) => String::new(),
                    };
                    let spot = p.capacity_type.as_deref() == Some("spot");
                    view! {
                        <tr data-pod=p.name.clone() data-deleted=p.deleted.to_string() class=if p.deleted { "text-gray-500" } else { "" }>
                            <td class="px-3 py-1">{match p.role { PodRole::Driver => "driver", PodRole::Executor => "executor", PodRole::Controller => "controller" }}</td>
                            <td class="px-3 py-1 font-mono text-xs">
                                {p.name.clone()}
                                {p.deleted.then(|| view! { <span class="ml-1 rounded bg-gray-100 px-1 text-gray-500" title="deleted from Kubernetes">"deleted"</span> })}
                            </td>
                            <td class="px-3 py-1 font-mono text-xs text-gray-600">{p.node.clone().unwrap_or_default()}</td>
                            <td class="px-3 py-1 text-xs">{p.instance_type.clone().unwrap_or_default()}</td>
                            <td class="px-3 py-1 text-xs">
                                <span class=if spot { "rounded bg-amber-100 px-1 text-amber-900" } else { "" }>{p.capacity_type.clone().unwrap_or_default()}</span>
                            </td>
                            <td class="px-3 py-1">{p.phase.clone()}</td>
                            <td class="px-3 py-1 text-right">{p.restarts}</td>
                            <td class="px-3 py-1 text-xs text-red-800">{exit}</td>
                            <td class="whitespace-nowrap px-3 py-1 font-mono text-xs">{format::timestamp(p.started_at)}</td>
                            <td class="whitespace-nowrap px-3 py-1 font-mono text-xs">{format::timestamp(p.finished_at)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn EventsTable(events: Vec<Event>) -> impl IntoView {
    view! {
        <table class="min-w-full text-sm" data-testid="events">
            <tbody class="divide-y divide-gray-100">
                {events.into_iter().rev().map(|e| {
                    let warning = e.kind == "Warning";
                    view! {
                        <tr data-reason=e.reason.clone()>
                            <td class="whitespace-nowrap px-3 py-1 font-mono text-xs text-gray-600">{format::timestamp(e.time)}</td>
                            <td class=if warning { "px-3 py-1 text-xs font-semibold text-red-800" } else { "px-3 py-1 text-xs text-gray-600" }>{e.kind.clone()}</td>
                            <td class="px-3 py-1 font-medium">{e.reason.clone()}</td>
                            <td class="px-3 py-1 font-mono text-xs text-gray-600">{e.object.clone()}</td>
                            <td class="px-3 py-1">{e.message.clone()}</td>
                            <td class="px-3 py-1 text-right text-xs text-gray-500">{(e.count > 1).then(|| format!("×{}", e.count))}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
