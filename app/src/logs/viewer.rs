//! The viewer's state apart from the page: the events, the filters, which events are visible,
//! where their rows sit, the search over them and the exceptions among them. The page owns one
//! [`Viewer`], feeds it events and user choices, and asks it which rows to draw.
//!
//! Everything is incremental where it matters at a million events: arriving events extend the
//! visible list and the layout instead of rebuilding them, and the search runs in slices.

use super::exceptions::Groups;
use super::layout::{self, Layout, Window};
use super::search::{self, Matcher, Needle};
use super::store::{Store, level_index};
use crate::api::{LogEvent, LogLevel};
use crate::log_query::SourceFilter;
use std::collections::HashSet;

/// Which events the user wants to see.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Sources to keep; empty keeps all (as in [`crate::log_query::LogQuery`]).
    pub sources: Vec<SourceFilter>,
    /// Levels to keep; empty keeps all. Markers are always kept.
    pub levels: Vec<LogLevel>,
    /// Only events that match the search (while there is one).
    pub only_matching: bool,
}

/// How rows are shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// `Some(columns)` wraps long lines at that many characters.
    pub wrap_columns: Option<usize>,
    /// Whether multi-line events show their folded lines (each event can differ).
    pub expand_all: bool,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape { wrap_columns: None, expand_all: true }
    }
}

#[derive(Default)]
pub struct Viewer {
    store: Store,
    exceptions: Groups,
    filter: Filter,
    /// Per source index: kept by the source filter.
    source_mask: Vec<bool>,
    search: search::Run,
    /// Visible events' indices, ascending.
    visible: Vec<u32>,
    /// Events below this index have been considered for `visible`.
    visible_upto: u32,
    layout: Layout,
    shape: Shape,
    /// Events whose expansion differs from `shape.expand_all`.
    flipped: HashSet<u32>,
    /// Events of the kept sources, per level.
    level_counts: [u32; LogLevel::ALL.len()],
    counted_upto: u32,
}

impl Viewer {
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn exceptions(&self) -> &Groups {
        &self.exceptions
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub fn search(&self) -> &search::Run {
        &self.search
    }

    pub fn visible(&self) -> &[u32] {
        &self.visible
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Takes one event in; it shows after the next [`Viewer::refresh`].
    pub fn push(&mut self, event: LogEvent) -> u32 {
        let i = self.store.push(event);
        self.exceptions.observe(&self.store, i);
        i
    }

    /// Forgets every event (a new time span), keeping the user's choices.
    pub fn clear(&mut self) {
        let (filter, shape, needle) = (self.filter.clone(), self.shape, self.search.needle.clone());
        *self = Viewer { filter, shape, search: search::Run::new(needle), ..Viewer::default() };
    }

    /// Brings the visible list, layout and counts up to the events taken in.
    pub fn refresh(&mut self) {
        while self.source_mask.len() < self.store.sources().len() {
            let source = &self.store.sources()[self.source_mask.len()].source;
            let kept = self.filter.sources.is_empty() || self.filter.sources.iter().any(|f| f.matches(source));
            self.source_mask.push(kept);
        }
        let n = self.store.len() as u32;
        for i in self.counted_upto..n {
            let r = self.store.record(i);
            if self.source_mask[r.source as usize] {
                self.level_counts[level_index(r.level)] += 1;
            }
        }
        self.counted_upto = n;
        if self.only_matching() {
            let bound = self.search.scanned;
            let hits = &self.search.hits;
            let from = hits.partition_point(|&h| h < self.visible_upto);
            let to = hits.partition_point(|&h| h < bound);
            for k in from..to {
                let i = self.search.hits[k];
                if self.keeps(i) {
                    self.show(i);
                }
            }
            self.visible_upto = self.visible_upto.max(bound);
        } else {
            for i in self.visible_upto..n {
                if self.keeps(i) {
                    self.show(i);
                }
            }
            self.visible_upto = n;
        }
    }

    fn show(&mut self, i: u32) {
        self.visible.push(i);
        self.layout.push(self.row_lines(i));
    }

    fn row_lines(&self, i: u32) -> u32 {
        layout::row_lines(self.store.text(i), self.store.record(i).lines, self.is_expanded(i), self.shape.wrap_columns)
    }

    /// Whether the search narrows what is shown right now.
    fn only_matching(&self) -> bool {
        self.filter.only_matching && !self.search.needle.is_empty()
    }

    /// Whether the source and level filters keep event `i` (the search aside).
    pub fn keeps(&self, i: u32) -> bool {
        let r = self.store.record(i);
        self.source_mask.get(r.source as usize).copied().unwrap_or(true)
            && (r.level == LogLevel::Marker || self.filter.levels.is_empty() || self.filter.levels.contains(&r.level))
    }

    /// Whether the source filter keeps source `s`.
    pub fn source_kept(&self, s: u16) -> bool {
        self.source_mask.get(s as usize).copied().unwrap_or(true)
    }

    /// Whether event `i` is on screen's list (all filters, the search's too).
    pub fn is_visible(&self, i: u32) -> bool {
        self.position(i).is_some()
    }

    /// Event `i`'s row, if it is visible.
    pub fn position(&self, i: u32) -> Option<usize> {
        self.visible.binary_search(&i).ok()
    }

    pub fn set_filter(&mut self, filter: Filter) {
        if filter == self.filter {
            return;
        }
        self.filter = filter;
        self.source_mask.clear();
        self.level_counts = Default::default();
        self.counted_upto = 0;
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.visible.clear();
        self.layout.clear();
        self.visible_upto = 0;
        self.refresh();
    }

    pub fn set_shape(&mut self, shape: Shape) {
        if shape == self.shape {
            return;
        }
        if shape.expand_all != self.shape.expand_all {
            self.flipped.clear();
        }
        self.shape = shape;
        self.relayout();
    }

    fn relayout(&mut self) {
        self.layout.clear();
        for k in 0..self.visible.len() {
            let lines = self.row_lines(self.visible[k]);
            self.layout.push(lines);
        }
    }

    pub fn is_expanded(&self, i: u32) -> bool {
        self.shape.expand_all != self.flipped.contains(&i)
    }

    /// Shows or hides event `i`'s folded lines.
    pub fn toggle_expanded(&mut self, i: u32) {
        if !self.flipped.remove(&i) {
            self.flipped.insert(i);
        }
        self.relayout();
    }

    /// Makes sure event `i`'s folded lines show (a search hit or an exception in them).
    pub fn expand(&mut self, i: u32) {
        if !self.is_expanded(i) {
            self.toggle_expanded(i);
        }
    }

    /// Starts a new search (an empty needle ends it).
    pub fn set_needle(&mut self, needle: Needle) {
        if needle == self.search.needle {
            return;
        }
        let narrowed = self.only_matching();
        self.search = search::Run::new(needle);
        if narrowed || self.only_matching() {
            self.rebuild();
        }
    }

    /// Searches up to `budget` more events; true when the search has seen every event.
    pub fn search_step(&mut self, matcher: &dyn Matcher, budget: usize) -> bool {
        let done = self.search.step(&self.store, matcher, budget);
        if self.only_matching() {
            self.refresh();
        }
        done
    }

    /// The rows to draw for a scroll position.
    pub fn window(&self, scroll_top: f64, viewport_px: f64, overscan_px: f64) -> Window {
        self.layout.window(scroll_top, viewport_px, overscan_px)
    }

    /// Events per level among the kept sources.
    pub fn level_counts(&self) -> &[u32; LogLevel::ALL.len()] {
        &self.level_counts
    }

    /// Search hits the filters keep, in order.
    fn shown_hits(&self) -> impl DoubleEndedIterator<Item = u32> + '_ {
        self.search.hits.iter().copied().filter(|&h| self.keeps(h))
    }

    /// How many events match the search among those the filters keep.
    pub fn hit_count(&self) -> usize {
        self.shown_hits().count()
    }

    /// Event `i`'s place among the hits, from 1.
    pub fn hit_ordinal(&self, i: u32) -> Option<usize> {
        self.search.is_hit(i).then(|| self.shown_hits().take_while(|&h| h < i).count() + 1)
    }

    /// The next (or previous) hit after `from` (an event index), wrapping around; from nothing,
    /// the first hit at or after `anchor` (the event at the top of the view).
    pub fn next_hit(&self, from: Option<u32>, anchor: u32, forward: bool) -> Option<u32> {
        let hits = &self.search.hits;
        let keeps = |h: &&u32| self.keeps(**h);
        let (after, before) = match from {
            Some(c) => (hits.partition_point(|&h| h <= c), hits.partition_point(|&h| h < c)),
            None => (hits.partition_point(|&h| h < anchor), hits.partition_point(|&h| h < anchor)),
        };
        if forward {
            hits[after..].iter().find(keeps).or_else(|| hits.iter().find(keeps)).copied()
        } else {
            hits[..before].iter().rev().find(keeps).or_else(|| hits.iter().rev().find(keeps)).copied()
        }
    }

    /// The first ERROR or FATAL event on screen, or failing that in the whole log.
    pub fn first_error(&self) -> Option<u32> {
        let is_error = |i: &u32| matches!(self.store.record(*i).level, LogLevel::Error | LogLevel::Fatal);
        self.visible.iter().copied().find(is_error).or_else(|| (0..self.store.len() as u32).find(is_error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::search::Plain;
    use crate::logs::store::tests::event;

    fn viewer(lines: &[(&str, LogLevel, &str)]) -> Viewer {
        let mut v = Viewer::default();
        for (n, (pod, level, text)) in lines.iter().enumerate() {
            v.push(event(&n.to_string(), pod, *level, text));
        }
        v.refresh();
        v
    }

    fn sample() -> Viewer {
        viewer(&[
            ("driver", LogLevel::Info, "starting"),
            ("exec-1", LogLevel::Info, "task 1"),
            ("exec-2", LogLevel::Warn, "slow task"),
            ("driver", LogLevel::Error, "Lost executor 2\n\tat a.B.c(B.java:1)"),
            ("exec-2", LogLevel::Marker, "pod deleted; its log is gone"),
            ("exec-1", LogLevel::Error, "task failed"),
        ])
    }

    #[test]
    fn filters_narrow_the_rows_and_keep_markers() {
        let mut v = sample();
        assert_eq!(v.visible(), [0, 1, 2, 3, 4, 5]);
        assert_eq!(v.layout().total_lines(), 7);
        v.set_filter(Filter { sources: vec![SourceFilter("exec-2".into())], ..Filter::default() });
        assert_eq!(v.visible(), [2, 4]);
        v.set_filter(Filter { levels: vec![LogLevel::Error], ..Filter::default() });
        assert_eq!(v.visible(), [3, 4, 5]);
        assert_eq!(v.level_counts()[level_index(LogLevel::Info)], 2);
        v.set_filter(Filter { sources: vec![SourceFilter("executor".into())], levels: vec![LogLevel::Error], only_matching: false });
        assert_eq!(v.visible(), [4, 5]);
        assert_eq!(v.level_counts()[level_index(LogLevel::Error)], 1);
        // New events join the visible list as they arrive.
        v.push(event("6", "exec-3", LogLevel::Error, "new"));
        v.push(event("7", "driver", LogLevel::Error, "not mine"));
        v.refresh();
        assert_eq!(v.visible(), [4, 5, 6]);
        assert_eq!(v.layout().rows(), 3);
    }

    #[test]
    fn folding_and_wrapping_change_heights_only() {
        let mut v = sample();
        v.set_shape(Shape { expand_all: false, ..Shape::default() });
        assert_eq!(v.layout().total_lines(), 6);
        v.toggle_expanded(3);
        assert!(v.is_expanded(3));
        assert_eq!(v.layout().total_lines(), 7);
        v.set_shape(Shape { wrap_columns: Some(5), expand_all: false });
        assert!(v.is_expanded(3));
        // "\tat a.B.c(B.java:1)" is 4 + 18 columns: 5 lines of 5.
        assert_eq!(v.layout().total_lines(), 2 + 2 + 2 + (3 + 5) + 6 + 3);
        // Expanding or folding all forgets the single choices.
        v.set_shape(Shape { wrap_columns: None, expand_all: true });
        v.toggle_expanded(3);
        assert!(!v.is_expanded(3));
        v.set_shape(Shape { wrap_columns: None, expand_all: false });
        assert!(!v.is_expanded(3));
        v.set_shape(Shape::default());
        assert!(v.is_expanded(3));
        assert_eq!(v.visible().len(), 6);
    }

    #[test]
    fn search_counts_and_steps_through_hits_the_filters_keep() {
        let mut v = sample();
        v.set_needle(Needle { text: "task".into(), ..Needle::default() });
        let m = Plain::new("task", false);
        assert!(!v.search_step(&m, 3));
        assert!(v.search_step(&m, 100));
        assert_eq!(v.search().hits, [1, 2, 5]);
        assert_eq!(v.hit_count(), 3);
        assert_eq!(v.hit_ordinal(5), Some(3));
        assert_eq!(v.next_hit(None, 2, true), Some(2));
        assert_eq!(v.next_hit(Some(2), 0, true), Some(5));
        assert_eq!(v.next_hit(Some(5), 0, true), Some(1));
        assert_eq!(v.next_hit(Some(1), 0, false), Some(5));
        assert_eq!(v.next_hit(None, 3, false), Some(2));
        v.set_filter(Filter { sources: vec![SourceFilter("exec-1".into())], ..Filter::default() });
        assert_eq!(v.hit_count(), 2);
        assert_eq!(v.next_hit(Some(1), 0, true), Some(5));
        // Only matching: the rows are the hits.
        v.set_filter(Filter { only_matching: true, ..Filter::default() });
        assert_eq!(v.visible(), [1, 2, 5]);
        v.set_needle(Needle { text: "lost".into(), ..Needle::default() });
        assert!(v.visible().is_empty());
        v.search_step(&Plain::new("lost", false), 100);
        assert_eq!(v.visible(), [3]);
        v.set_needle(Needle::default());
        assert_eq!(v.visible().len(), 6);
    }

    #[test]
    fn the_first_error_prefers_what_is_shown() {
        let mut v = sample();
        assert_eq!(v.first_error(), Some(3));
        v.set_filter(Filter { sources: vec![SourceFilter("exec-1".into())], ..Filter::default() });
        assert_eq!(v.first_error(), Some(5));
        v.set_filter(Filter { sources: vec![SourceFilter("exec-2".into())], ..Filter::default() });
        assert_eq!(v.first_error(), Some(3));
        assert_eq!(v.exceptions().groups.len(), 0, "a log line before frames is no exception");
    }

    #[test]
    fn a_million_events_stay_compact_and_quick() {
        let mut v = Viewer::default();
        let start = std::time::Instant::now();
        let text = "26/11/21 06:02:03 INFO TaskSetManager: Finished task 7.0 in stage 3.0 (TID 131)";
        let pods = ["driver", "exec-1", "exec-2", "exec-3"].map(|pod| event("", pod, LogLevel::Info, text));
        for n in 0..1_000_000u32 {
            let mut e = pods[n as usize % 4].clone();
            e.id = format!("{n:010}");
            if n % 1000 == 0 {
                e.level = LogLevel::Error;
            }
            v.push(e);
        }
        v.refresh();
        assert_eq!(v.visible().len(), 1_000_000);
        let filter_started = std::time::Instant::now();
        v.set_filter(Filter { levels: vec![LogLevel::Error], ..Filter::default() });
        assert_eq!(v.visible().len(), 1000);
        let filtering = filter_started.elapsed();
        let w = v.window(1_000.0, 800.0, 400.0);
        assert!(w.end - w.first < 100);
        // Generous bounds for a debug build on a busy machine; release is far faster.
        assert!(filtering.as_millis() < 2_000, "filtering took {filtering:?}");
        assert!(start.elapsed().as_secs() < 60);
    }
}
