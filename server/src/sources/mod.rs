//! Sources: where the model's facts come from, and the clients that reach them.
//!
//! - [`cluster`]: the connection to the Kubernetes API (kubeconfig or in-cluster).
//! - [`spark_watch`]: kube-rs watchers of SparkApplications, Spark pods, events, nodes and
//!   controller pods, feeding the model.
//! - [`spark_ui`]: where a job's Spark UI and REST API are served (driver or History Server)
//!   and the one client that reaches them, for the proxy and the executor metrics.
//!
//! The archive, the log readers and the metrics sources are sources too, each in its own module
//! at the top of the crate.

#![warn(missing_docs)]

pub mod cluster;
pub mod spark_ui;
pub mod spark_watch;
