//! Sources: where the model's facts come from. Today the Kubernetes API (kube-rs watchers);
//! later the S3 archive, Prometheus and the History Server, each its own module.

pub mod cluster;
pub mod spark_watch;
