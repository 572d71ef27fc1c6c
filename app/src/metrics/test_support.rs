//! What the metrics modules' tests build their jobs from.

use crate::api::{Pod, PodRole};
use jiff::Timestamp;

/// A running pod with nothing but a name and a role; tests set what they need with `..`.
pub fn pod(name: &str, role: PodRole) -> Pod {
    serde_json::from_value(serde_json::json!({
        "name": name, "role": role, "node": null, "instance_type": null, "capacity_type": null,
        "phase": "Running", "restarts": 0, "exit_code": null, "reason": null,
        "started_at": null, "finished_at": null,
    }))
    .expect("a pod's JSON")
}

/// `s` seconds into the test's day.
pub fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + s).expect("a time in range")
}
