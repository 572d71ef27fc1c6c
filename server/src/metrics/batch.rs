//! Splitting a job's pods into queries: a job with hundreds of executors would otherwise make
//! one query whose pod regex grows without bound and whose answer holds every series at once.
//! Each batch keeps its regex under a length and its pods under a count.

use super::promql::regex_literal;

/// How big one query may get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Pods per query.
    pub max_pods: usize,
    /// Characters of the pod regex per query.
    pub max_regex: usize,
}

impl Default for BatchLimits {
    fn default() -> BatchLimits {
        BatchLimits { max_pods: 50, max_regex: 4000 }
    }
}

/// `pods` in order, cut into batches within `limits`; a pod whose name alone is over the
/// regex limit still gets a batch of its own.
pub fn batches<'a>(pods: &[&'a str], limits: BatchLimits) -> Vec<Vec<&'a str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut length = 0;
    for pod in pods {
        let added = regex_literal(pod).len();
        let fits = out.last().is_some_and(|b| b.len() < limits.max_pods.max(1) && length + 1 + added <= limits.max_regex);
        match out.last_mut() {
            Some(batch) if fits => {
                batch.push(pod);
                length += 1 + added;
            }
            _ => {
                out.push(vec![pod]);
                length = added;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::promql::pods_regex;

    #[test]
    fn batches_stay_within_both_limits_and_keep_every_pod_once() {
        let names: Vec<String> = (1..=230).map(|i| format!("nightly-etl-7f3a9c-exec-{i}")).collect();
        let pods: Vec<&str> = names.iter().map(String::as_str).collect();
        let limits = BatchLimits { max_pods: 50, max_regex: 600 };
        let out = batches(&pods, limits);
        assert!(out.len() >= 230 / 50);
        for batch in &out {
            assert!(batch.len() <= 50);
            assert!(pods_regex(batch).len() <= 600, "{}", pods_regex(batch).len());
        }
        assert_eq!(out.concat(), pods);
        let by_count = batches(&pods, BatchLimits { max_pods: 100, max_regex: 1 << 20 });
        assert_eq!(by_count.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 30]);
    }

    #[test]
    fn a_long_name_gets_its_own_batch_and_nothing_is_empty() {
        let long = "x".repeat(100);
        let out = batches(&["a", &long, "b"], BatchLimits { max_pods: 10, max_regex: 10 });
        assert_eq!(out, vec![vec!["a"], vec![long.as_str()], vec!["b"]]);
        assert!(batches(&[], BatchLimits::default()).is_empty());
    }
}
