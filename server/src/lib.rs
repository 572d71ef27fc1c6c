//! sparkboard's server: the `sparkboard` binary's library.
//!
//! Data flows one way: [`sources`] (Kubernetes watchers) -> [`model`] (compact jobs and pods)
//! -> [`views`] (JSON API, server push, the Leptos pages); [`archive`] keeps finished jobs after
//! Kubernetes deletes them and feeds them back into the model at start-up; [`metrics`] reads
//! containers' CPU and memory from Prometheus or metrics.k8s.io. [`config`] is the command line;
//! [`run`] wires it all for each command. The simulated cluster the demo and the tests run
//! against is its own crate, `sparkboard-sim` (server/sim), which depends on nothing here.

// Leptos view types nest deeply; the jobs page's layout needs more than the default 128.
#![recursion_limit = "256"]

pub mod archive;
pub mod config;
pub mod logs;
pub mod metrics;
pub mod model;
pub mod run;
pub mod sources;
pub mod ui_proxy;
pub mod views;
