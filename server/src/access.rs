//! Who may see what: the one module that decides it.
//!
//! Every route takes a [`Caller`] (an axum extractor, so a handler cannot forget to ask who is
//! calling) and reads jobs only through this module's functions, which answer a job the caller
//! may not see exactly like a job that does not exist. The Leptos pages read their caller from
//! the request the same way ([`Access::caller`]). Identity (an auth proxy's headers, a bearer
//! token) and per-namespace authorization change this module and nothing else.
//!
//! Today the dashboard has one rule for every request: [`Access::open`] (everyone sees every
//! namespace the dashboard watches), or a fixed set of namespaces ([`Access::only`]).

#![warn(missing_docs)]

use crate::model::pod::JobKey;
use crate::model::{JobModel, SparkUi};
use app::api::{JobDetail, JobList};
use app::query::JobQuery;
use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

/// Who is asking, as far as access goes: which namespaces they may see.
#[derive(Clone, Debug)]
pub struct Caller {
    sees: Namespaces,
}

#[derive(Clone, Debug)]
enum Namespaces {
    All,
    Only(Arc<BTreeSet<String>>),
}

impl Caller {
    /// A caller who may see no namespace at all: what a request gets when its identity cannot
    /// be read (fail closed).
    pub fn nobody() -> Caller {
        Caller { sees: Namespaces::Only(Arc::default()) }
    }

    /// May this caller see jobs in `namespace`?
    pub fn can_view(&self, namespace: &str) -> bool {
        match &self.sees {
            Namespaces::All => true,
            Namespaces::Only(set) => set.contains(namespace),
        }
    }
}

/// How the dashboard tells who is asking, from a request's head.
#[derive(Clone, Debug)]
pub struct Access {
    everyone: Caller,
}

impl Access {
    /// Every request may see every namespace the dashboard watches (the dashboard's own
    /// `--namespace` list bounds what exists at all).
    pub fn open() -> Access {
        Access { everyone: Caller { sees: Namespaces::All } }
    }

    /// Every request may see only `namespaces` (none: nothing at all).
    pub fn only(namespaces: impl IntoIterator<Item = String>) -> Access {
        Access { everyone: Caller { sees: Namespaces::Only(Arc::new(namespaces.into_iter().collect())) } }
    }

    /// The caller of a request, from its head.
    pub fn caller(&self, _request: &Parts) -> Caller {
        self.everyone.clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    Access: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, Infallible> {
        Ok(Access::from_ref(state).caller(parts))
    }
}

/// Where the jobs this module hands out come from: the model, and the archive behind it for
/// jobs only the archive still holds (the dashboard's `AppState`). Reading through this trait
/// keeps access below the state it guards: the state depends on access, not the other way.
pub trait JobSource: Sync {
    /// Every job and pod the sources reported.
    fn model(&self) -> &JobModel;
    /// One job whole, whoever asks.
    fn job_detail(&self, key: &JobKey) -> impl Future<Output = Option<JobDetail>> + Send;
}

/// One page of the jobs `query` names among those `caller` may see; the counts, namespaces and
/// totals count only those too.
pub fn visible_jobs(state: &impl JobSource, caller: &Caller, query: &JobQuery) -> JobList {
    state.model().query(query, |namespace| caller.can_view(namespace))
}

/// One job whole, if it exists and `caller` may see it; `None` looks the same either way.
pub async fn visible_job(state: &impl JobSource, caller: &Caller, key: &JobKey) -> Option<JobDetail> {
    if !caller.can_view(&key.namespace) {
        return None;
    }
    state.job_detail(key).await
}

/// A job found by another of its names (a Spark application id, an Airflow task), if `caller`
/// may see it.
pub fn visible_key(caller: &Caller, key: Option<JobKey>) -> Option<JobKey> {
    key.filter(|key| caller.can_view(&key.namespace))
}

/// Where the job's Spark UI is now, if `caller` may see the job; otherwise, like a job that
/// does not exist.
pub fn visible_spark_ui(state: &impl JobSource, caller: &Caller, key: &JobKey) -> SparkUi {
    if !caller.can_view(&key.namespace) {
        return SparkUi::NoSuchJob;
    }
    state.model().spark_ui(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_sees_the_namespaces_the_rule_gives_and_nobody_sees_none() {
        let parts = http::Request::new(()).into_parts().0;
        assert!(Access::open().caller(&parts).can_view("anything"));
        let ml = Access::only(["ml".to_string()]).caller(&parts);
        assert!(ml.can_view("ml") && !ml.can_view("etl") && !ml.can_view(""));
        assert!(!Caller::nobody().can_view("ml"));
        assert_eq!(visible_key(&ml, Some(JobKey { namespace: "etl".into(), name: "a".into() })), None);
    }
}
