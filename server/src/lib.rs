//! sparkboard's server: the `sparkboard` binary's library.
//!
//! Data flows one way: [`sources`] (Kubernetes watchers) -> [`model`] (compact jobs and pods)
//! -> [`views`] (JSON API, server push, the Leptos pages). A view never calls Kubernetes; it asks
//! the model, or one of the parts that own their sources:
//! - [`archive`] keeps finished jobs after Kubernetes deletes them and feeds them back into the
//!   model at start-up;
//! - [`logs`] merges a job's logs from the log archive and the live pod log API;
//! - [`metrics`] reads containers' CPU and memory from Prometheus or metrics.k8s.io, and Spark's
//!   executor metrics from the driver or the History Server;
//! - [`ui_proxy`] serves each job's Spark UI under the job's own path: the running driver's,
//!   then the History Server's.
//!
//! Every route asks [`access`] who may see what, and reads jobs only through it; [`state`] is
//! what every handler shares. [`sources::spark_ui`] is the one client of Spark's servers, for the
//! proxy and the executor metrics alike.
//!
//! The simulated cluster the demo and the tests run against is its own crate, `sparkboard-sim`
//! (`server/sim/`), which depends on nothing here. [`config`] is the command line; [`run`] wires
//! it all for each command. `REFERENCE.md` at the top of the repository lists every flag, route
//! and test.

// Leptos view types nest deeply; the jobs page's layout needs more than the default 128.
#![recursion_limit = "256"]

pub mod access;
pub mod archive;
pub mod config;
pub mod logs;
pub mod metrics;
pub mod model;
pub mod run;
pub mod sources;
pub mod state;
pub mod ui_proxy;
pub mod views;
