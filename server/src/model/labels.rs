//! Which labels and annotations say who ran a job and which Airflow task launched it.
//!
//! Every company spells these differently (`user`, `owner`, `team`, `cost-center`...), and
//! Airflow's operators write the task's identity both as labels (made label-safe, so a `run_id`
//! such as `scheduled__2026-11-21T08:00:00+00:00` is mangled) and as annotations (verbatim).
//! The keys are configuration; annotations win over labels because they keep values as written.

use std::collections::BTreeMap;

/// Candidate keys for each fact, in order of preference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelKeys {
    pub user: Vec<String>,
    pub team: Vec<String>,
    pub dag_id: Vec<String>,
    pub task_id: Vec<String>,
    pub run_id: Vec<String>,
    pub try_number: Vec<String>,
    /// Labels a controller pod shares with the Spark pods it started (EMR on EKS's job id).
    pub link: Vec<String>,
}

impl Default for LabelKeys {
    fn default() -> Self {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect();
        LabelKeys {
            user: keys(&["user", "owner", "spark-user"]),
            team: keys(&["team"]),
            dag_id: keys(&["dag_id"]),
            task_id: keys(&["task_id"]),
            run_id: keys(&["run_id"]),
            try_number: keys(&["try_number"]),
            link: keys(&["emr-containers.amazonaws.com/job.id"]),
        }
    }
}

impl LabelKeys {
    fn all(&self) -> impl Iterator<Item = &String> {
        [&self.user, &self.team, &self.dag_id, &self.task_id, &self.run_id, &self.try_number, &self.link].into_iter().flatten()
    }

    /// The values of interest of one object: annotations first, then labels.
    pub fn keep(&self, labels: Option<&BTreeMap<String, String>>, annotations: Option<&BTreeMap<String, String>>) -> LabelsOfInterest {
        let mut kept = Vec::new();
        for source in [annotations, labels].into_iter().flatten() {
            for key in self.all() {
                if let Some(value) = source.get(key)
                    && !kept.iter().any(|(k, _): &(String, String)| k == key)
                {
                    kept.push((key.clone(), value.clone()));
                }
            }
        }
        LabelsOfInterest(kept)
    }
}

/// The few label or annotation values the job model reads, kept instead of the whole maps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelsOfInterest(pub Vec<(String, String)>);

impl LabelsOfInterest {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The value of the first of `keys` present.
    pub fn first(&self, keys: &[String]) -> Option<&str> {
        keys.iter().find_map(|k| self.get(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_win_and_the_first_key_present_counts() {
        let keys = LabelKeys { user: vec!["owner".into(), "user".into()], ..LabelKeys::default() };
        let labels: BTreeMap<String, String> =
            [("user", "bob"), ("run_id", "scheduled__2026-11-21T0800000000-abc"), ("noise", "x")].map(|(k, v)| (k.into(), v.into())).into();
        let annotations: BTreeMap<String, String> =
            [("run_id", "scheduled__2026-11-21T08:00:00+00:00")].map(|(k, v)| (k.into(), v.into())).into();
        let kept = keys.keep(Some(&labels), Some(&annotations));
        assert_eq!(kept.first(&keys.user), Some("bob"));
        assert_eq!(kept.first(&keys.run_id), Some("scheduled__2026-11-21T08:00:00+00:00"));
        assert_eq!(kept.get("noise"), None);
        assert_eq!(kept.0.len(), 2);
    }
}
