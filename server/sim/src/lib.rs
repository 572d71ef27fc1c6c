//! The simulated Kubernetes cluster: an API server over HTTP, backed by an in-memory object
//! store and driven by a Spark workload engine.
//!
//! Its own crate, depending on nothing of the dashboard: the dashboard is tested against what
//! it serves and ships, so the two must not share the code that writes and reads it.
//!
//! - [`resources`]: the served resource types; [`discovery`]: the documents that describe them.
//! - [`store`]: objects, resourceVersions, watch history and fan-out.
//! - [`api`]: the HTTP verbs over the store; [`selector`], [`table`], [`status`] serve it.
//! - [`workload`] plays jobs into the store, building objects with [`objects`].
//! - [`usage`]: what the simulated containers use, served as metrics.k8s.io (by [`derived`])
//!   and as Prometheus scrape targets (by [`exposition`]).
//! - [`kubeconfig`]: what kubectl and `sparkboard serve` need to connect.
//! - [`log_shipper`]: Fluent Bit's, Vector's or the runtime's objects in a directory or S3.
//!
//! The same [`Sim::router`] runs on a socket for kubectl and the tests (`sparkboard sim`) and
//! in-process under `kube::Client` (`sparkboard demo`), so the dashboard always talks to it
//! through real Kubernetes API requests.

pub mod api;
pub mod clock;
pub mod derived;
pub mod discovery;
pub mod exposition;
pub mod history_server;
pub mod kubeconfig;
pub mod log_shipper;
pub mod logs;
pub mod objects;
pub mod pod_log;
pub mod quantity;
pub mod resources;
mod rng;
pub mod scenario;
pub mod selector;
pub mod spark_driver;
mod spark_logs;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod usage;
pub mod workload;

pub use api::SimState;
pub use scenario::Scenario;
use std::sync::Arc;
use std::time::Duration;
use store::{ChangeType, Store, WatchFrom};
use workload::Workload;

/// How the simulated cluster plays.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Seed of the workload: the same seed gives the same cluster.
    pub seed: u64,
    /// How many simulated seconds pass per wall-clock second.
    pub speed: f64,
    /// How many changes a watch can resume from.
    pub watch_history: usize,
    /// Cut every watch this long after it starts (fault injection).
    pub drop_watches_after: Option<Duration>,
    /// What the workload plays.
    pub scenario: Scenario,
    /// Real Spark drivers for up to this many running jobs, with this launcher.
    pub real_drivers: Option<(spark_driver::Launcher, usize)>,
    /// A log shipper writing every container's log to an object store.
    pub ship_logs: Option<log_shipper::ShipOptions>,
}

/// Counters of what the simulated API did to its clients, at `/sim/stats`: tests use them to
/// know a fault path really ran.
#[derive(Debug, Default)]
pub struct SimStats {
    pub watches_started: std::sync::atomic::AtomicU64,
    pub watches_expired: std::sync::atomic::AtomicU64,
    pub watches_dropped: std::sync::atomic::AtomicU64,
    pub log_follows_cut: std::sync::atomic::AtomicU64,
}

/// A running simulated cluster.
pub struct Sim {
    pub state: SimState,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Sim {
    /// Fills the store with the demo scenario and starts the workload engine (needs a runtime).
    pub fn start(options: &SimOptions) -> Sim {
        let state = SimState {
            drop_watches_after: options.drop_watches_after,
            ..SimState::new(Arc::new(Store::with_history(options.watch_history)), options.speed)
        };
        let mut workload = Workload::new(state.clone(), options.scenario.clone(), options.seed);
        if let Some((launcher, limit)) = options.real_drivers.clone() {
            workload = workload.with_real_drivers(spark_driver::RealDrivers::new(launcher, limit));
        }
        let engine = tokio::spawn(workload.run(Duration::from_millis(100)));
        let janitor = tokio::spawn(drop_logs_of_deleted_pods(state.clone()));
        let mut tasks = vec![engine, janitor];
        if let Some(ship) = options.ship_logs.clone() {
            tasks.push(tokio::spawn(log_shipper::run(state.logs.clone(), ship)));
        }
        Sim { state, tasks }
    }

    /// The Kubernetes API, as an axum router.
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

/// Logs go with their pod, as on a node: whoever deleted it (the workload, a cascade, kubectl).
async fn drop_logs_of_deleted_pods(state: SimState) {
    loop {
        let Ok(mut start) = state.store.watch(&resources::PODS, WatchFrom::Version(state.store.resource_version())) else { return };
        loop {
            match start.live.recv().await {
                Ok(change) if change.resource == &resources::PODS && change.change == ChangeType::Deleted => {
                    let meta = &change.object["metadata"];
                    state.logs.remove_pod(meta["namespace"].as_str().unwrap_or_default(), meta["name"].as_str().unwrap_or_default());
                }
                Ok(_) => {}
                // Fell behind: a few logs of deleted pods may linger until the next pass; resubscribe.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
