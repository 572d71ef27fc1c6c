//! The simulated Kubernetes cluster: an API server over HTTP, backed by an in-memory object
//! store and driven by a Spark workload engine.
//!
//! - [`resources`]: the served resource types; [`discovery`]: the documents that describe them.
//! - [`store`]: objects, resourceVersions, watch history and fan-out.
//! - [`api`]: the HTTP verbs over the store; [`selector`], [`table`], [`status`] serve it.
//! - [`workload`] plays jobs into the store, building objects with [`objects`].
//! - [`kubeconfig`]: what kubectl and `sparkboard serve` need to connect.
//!
//! The same [`Sim::router`] runs on a socket for kubectl and the tests (`sparkboard sim`) and
//! in-process under `kube::Client` (`sparkboard demo`), so the dashboard always talks to it
//! through real Kubernetes API requests.

pub mod api;
pub mod discovery;
pub mod kubeconfig;
pub mod objects;
pub mod resources;
mod rng;
pub mod selector;
pub mod status;
pub mod store;
pub mod table;
pub mod workload;

use std::sync::Arc;
use std::time::Duration;
use store::Store;
use workload::{Scenario, SimClock, Workload};

/// How the simulated cluster plays.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Seed of the workload: the same seed gives the same cluster.
    pub seed: u64,
    /// How many simulated seconds pass per wall-clock second.
    pub speed: f64,
}

/// A running simulated cluster.
pub struct Sim {
    pub store: Arc<Store>,
    engine: tokio::task::JoinHandle<()>,
}

impl Sim {
    /// Fills the store with the demo scenario and starts the workload engine (needs a runtime).
    pub fn start(options: &SimOptions) -> Sim {
        let store = Arc::new(Store::default());
        let workload = Workload::new(store.clone(), Scenario::demo(options.seed), options.seed, SimClock::new(options.speed));
        let engine = tokio::spawn(workload.run(Duration::from_millis(100)));
        Sim { store, engine }
    }

    /// The Kubernetes API, as an axum router.
    pub fn router(&self) -> axum::Router {
        api::router(self.store.clone())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.engine.abort();
    }
}
