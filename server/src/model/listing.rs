//! One page of the jobs list: filter, count, sort and cut, in one pass over the jobs.
//!
//! At 100,000 jobs a page costs one scan (filters and counts) and a partial sort of the
//! matches (`select_nth_unstable`), not a full sort: only the page itself is sorted.

use app::api::{Job, JobList};
use app::query::{JobQuery, SortKey};
use jiff::Timestamp;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The page of `jobs` that `query` asks for, with live durations as of `now`.
pub fn page<'a>(jobs: impl Iterator<Item = &'a Job>, query: &JobQuery, now: Timestamp) -> JobList {
    let m = query.matcher(now);
    let mut counts = BTreeMap::new();
    let mut namespaces: Vec<&str> = Vec::new();
    let before = query.cursor.as_ref().is_some_and(|c| c.before);
    let wanted = if before { Ordering::Less } else { Ordering::Greater };
    // Sort keys are taken once, while the job is in cache: sorting then compares a compact
    // array and only reaches into jobs to break ties.
    let mut side: Vec<(SortKey<'a>, &'a Job)> = Vec::new();
    let mut total = 0;
    for job in jobs {
        // A handful of namespaces: a linear probe beats a tree or a hash here.
        if !namespaces.contains(&job.namespace.as_str()) {
            namespaces.push(&job.namespace);
        }
        if !m.matches_ignoring_state(job) {
            continue;
        }
        *counts.entry(job.state).or_insert(0) += 1;
        if !m.matches_state(job) {
            continue;
        }
        total += 1;
        let key = m.sort_key(job);
        if m.against_cursor_key(key, job).is_none_or(|o| o == wanted) {
            side.push((key, job));
        }
    }
    let limit = query.page_size();
    let on_side = side.len();
    let cmp =
        |a: &(SortKey<'_>, &Job), b: &(SortKey<'_>, &Job)| m.compare((a.0, &a.1.namespace, &a.1.name), (b.0, &b.1.namespace, &b.1.name));
    if on_side > limit {
        if before {
            side.select_nth_unstable_by(on_side - limit, cmp);
            side.drain(..on_side - limit);
        } else {
            side.select_nth_unstable_by(limit, cmp);
            side.truncate(limit);
        }
    }
    side.sort_unstable_by(cmp);
    // Is there more beyond each end of the page?
    let (more_after, more_before) = if before { (on_side < total, on_side > limit) } else { (on_side > limit, on_side < total) };
    let next = more_after.then(|| side.last().map(|(_, j)| m.cursor_at(j, false).as_param())).flatten();
    let prev = more_before.then(|| side.first().map(|(_, j)| m.cursor_at(j, true).as_param())).flatten();
    namespaces.sort_unstable();
    JobList {
        jobs: side.into_iter().map(|(_, j)| Job { duration_s: j.duration_at(now), ..j.clone() }).collect(),
        total,
        next,
        prev,
        counts,
        namespaces: namespaces.into_iter().map(str::to_string).collect(),
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::JobState;

    fn jobs(n: usize) -> Vec<Job> {
        (0..n)
            .map(|i| Job {
                user: (i % 5 != 0).then(|| format!("user{}", i % 4)),
                submitted_at: Some(Timestamp::from_second(1_700_000_000 + (i as i64 % 50) * 60).unwrap()),
                duration_s: Some(i as f64),
                ..Job::new(
                    if i % 2 == 0 { "even" } else { "odd" },
                    format!("job-{i:03}"),
                    if i % 3 == 0 { JobState::Failed } else { JobState::Completed },
                )
            })
            .collect()
    }

    fn ids(list: &JobList) -> Vec<String> {
        list.jobs.iter().map(Job::id).collect()
    }

    /// Walking every page forward, then back, gives every match exactly once, in order, for
    /// every sort (ties in the sort value included).
    #[test]
    fn pages_cover_the_list_exactly_once_both_ways() {
        let all = jobs(257);
        let now = Timestamp::now();
        for sort in ["-submitted", "submitted", "name", "-user", "duration", "state"] {
            let base = JobQuery::from_query_string(&format!("sort={sort}&limit=20&state=COMPLETED")).unwrap();
            let mut everything = all.iter().filter(|j| j.state == JobState::Completed).cloned().collect::<Vec<_>>();
            let m = base.matcher(now);
            everything.sort_by(|a, b| m.compare_jobs(a, b));
            let expected: Vec<String> = everything.iter().map(Job::id).collect();

            let mut seen = Vec::new();
            let mut query = base.clone();
            let mut pages = Vec::new();
            loop {
                let list = page(all.iter(), &query, now);
                assert_eq!(list.total, expected.len());
                seen.extend(ids(&list));
                pages.push(list.clone());
                match list.next {
                    Some(next) => query.cursor = Some(app::query::Cursor::parse(&next).unwrap()),
                    None => break,
                }
            }
            assert_eq!(seen, expected, "forward, sort {sort}");
            assert!(pages[0].prev.is_none());
            // And back from the last page.
            let mut back = Vec::new();
            let mut list = pages.last().unwrap().clone();
            while let Some(prev) = list.prev.clone() {
                query.cursor = Some(app::query::Cursor::parse(&prev).unwrap());
                list = page(all.iter(), &query, now);
                back.splice(0..0, ids(&list));
            }
            let last_len = pages.last().unwrap().jobs.len();
            assert_eq!(back, expected[..expected.len() - last_len], "backward, sort {sort}");
        }
    }

    #[test]
    fn counts_ignore_the_state_filter_but_not_the_others() {
        let all = jobs(30);
        let list = page(all.iter(), &JobQuery::from_query_string("namespace=even&state=FAILED").unwrap(), Timestamp::now());
        assert_eq!(list.counts.get(&JobState::Failed), Some(&5));
        assert_eq!(list.counts.get(&JobState::Completed), Some(&10));
        assert_eq!(list.total, 5);
        assert_eq!(list.namespaces, ["even", "odd"]);
        assert!(list.jobs.iter().all(|j| j.namespace == "even" && j.state == JobState::Failed));
    }
}
