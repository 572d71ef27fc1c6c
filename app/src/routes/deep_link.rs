//! Pages for deep links that found no job. The server redirects `/apps/{id}` and
//! `/airflow/{dag}/{task}/{run}[/{try}]` to the job page when a job matches; otherwise these
//! pages say what was looked up, with status 404.

use super::not_found::NoSuchJob;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};

/// `/apps/{app_id}` with no job of that Spark application id.
#[component]
pub fn NoJobForApp() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("app_id").unwrap_or_default());
    view! { <NoSuchJob what=format!("No job has the Spark application id {id}.")/> }
}

/// `/airflow/{dag_id}/{task_id}/{run_id}[/{try}]` with no job launched by that task.
#[component]
pub fn NoJobForTask() -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    let parts: Vec<String> = path.trim_start_matches("/airflow/").split('/').map(str::to_string).collect();
    let what = match parts.as_slice() {
        [dag, task, run] => format!("No job was launched by Airflow task {dag}.{task}, run {run}."),
        [dag, task, run, attempt] => format!("No job was launched by Airflow task {dag}.{task}, run {run}, try {attempt}."),
        _ => "An Airflow link names a DAG, a task, a run and optionally a try: /airflow/{dag_id}/{task_id}/{run_id}[/{try}].".to_string(),
    };
    view! { <NoSuchJob what/> }
}
