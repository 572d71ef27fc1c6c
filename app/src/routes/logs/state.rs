//! The log page's state: the [`Viewer`] (events, visible rows, layout, search, exceptions) and
//! the signals the controls read and write. Every change that touches the viewer goes through a
//! method here, which updates it at once and bumps [`Logs::rev`], so that what is drawn never
//! lags behind what the viewer holds.

// The server renders the shell only; loading, measuring and the address bar are the browser's.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use crate::api::LogLevel;
use crate::log_query::{LogFormat, LogQuery, SourceFilter};
use crate::logs::layout::Align;
use crate::logs::search::Needle;
use crate::logs::viewer::{Filter, Shape, Viewer};
use crate::query::{TimeBound, encode};
use leptos::html::Div;
use leptos::prelude::*;

/// Where loading stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Before the browser has started (the server's render, hydration).
    Starting,
    Loading,
    /// The history has arrived (or is arriving) and the stream stays open for new lines.
    Following,
    /// The log has ended.
    Complete,
    /// The log so far has arrived, but the job runs on and follow is off.
    Paused,
    /// The stream broke off after some events; the events so far stay.
    Interrupted(String),
    /// Nothing could be loaded: the server's answer or the network's.
    Failed(Failure),
}

/// Why nothing could be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 404: the server knows no log for this job.
    NotFound(String),
    /// 400: the query does not parse (the message says what).
    BadQuery(String),
    /// Another status.
    Server(u16, String),
    Network(String),
}

/// Choices read from the page's URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UrlState {
    pub query: LogQuery,
    /// Why the URL's query did not parse, if it did not (defaults are used then).
    pub error: Option<String>,
    pub only_matching: bool,
    pub case_sensitive: bool,
    /// Whether the URL says `follow=` at all (if not, a running job is followed).
    pub follow_given: bool,
}

impl UrlState {
    pub fn parse(raw: &str) -> UrlState {
        let flag =
            |key: &str| raw.trim_start_matches('?').split('&').any(|p| p == key || p == format!("{key}=true") || p == format!("{key}=1"));
        let follow_given = raw.trim_start_matches('?').split('&').any(|p| p == "follow" || p.starts_with("follow="));
        let (query, error) = match LogQuery::from_query_string(raw) {
            Ok(q) => (q, None),
            Err(e) => (LogQuery::default(), Some(e.to_string())),
        };
        UrlState { query, error, only_matching: flag("only"), case_sensitive: flag("case"), follow_given }
    }
}

/// Everything the log page's parts share. `Copy`: handles only.
#[derive(Clone, Copy)]
pub struct Logs {
    pub namespace: StoredValue<String>,
    pub name: StoredValue<String>,
    /// The time span asked of the server (from the URL).
    pub span: StoredValue<(Option<TimeBound>, Option<TimeBound>)>,
    /// Whether the job was still running when the page opened.
    pub running: StoredValue<bool>,
    pub viewer: StoredValue<Viewer>,
    /// Bumped whenever the viewer's rows, layout or counts change.
    pub rev: RwSignal<u64>,
    pub filter: RwSignal<Filter>,
    pub needle: RwSignal<Needle>,
    /// Why the search's regular expression does not compile.
    pub needle_error: RwSignal<Option<String>>,
    /// The search hit the user stepped to (an event index).
    pub cursor: RwSignal<Option<u32>>,
    /// The line a permalink names (an event index), highlighted.
    pub selected: RwSignal<Option<u32>>,
    /// A permalink's id still to arrive.
    pub target: RwSignal<Option<String>>,
    /// Enter pressed before the search found anything: step (forward or back) at the first hit.
    pub pending_step: RwSignal<Option<bool>>,
    /// A line jumped to (first error, an exception), highlighted until the next jump.
    pub focus: RwSignal<Option<u32>>,
    pub wrap: RwSignal<bool>,
    pub utc: RwSignal<bool>,
    pub expand_all: RwSignal<bool>,
    pub follow: RwSignal<bool>,
    pub status: RwSignal<Status>,
    /// Lines of the stream that were not events.
    pub bad_lines: RwSignal<u32>,
    /// Keep the newest line in view while following (off once the user scrolls up).
    pub stick: RwSignal<bool>,
    /// Events when `stick` went off, to count what arrived since.
    pub unseen_from: RwSignal<usize>,
    pub scroll_top: RwSignal<f64>,
    /// The list's inner width and height in pixels.
    pub viewport: RwSignal<(f64, f64)>,
    /// A monospace character's width in pixels (for wrapping).
    pub char_px: RwSignal<f64>,
    pub container: NodeRef<Div>,
    pub search_input: NodeRef<leptos::html::Input>,
}

/// Rows drawn above and below the viewport.
pub const OVERSCAN_PX: f64 = 600.0;

impl Logs {
    pub fn new(namespace: String, name: String, running: bool, url: &UrlState, follow: bool) -> Logs {
        let filter = Filter { sources: url.query.sources.clone(), levels: url.query.levels.clone(), only_matching: url.only_matching };
        let needle = match (&url.query.re, &url.query.q) {
            (Some(re), _) => Needle { text: re.clone(), regex: true, case_sensitive: url.case_sensitive },
            (None, Some(q)) => Needle { text: q.clone(), regex: false, case_sensitive: url.case_sensitive },
            (None, None) => Needle { case_sensitive: url.case_sensitive, ..Needle::default() },
        };
        let mut viewer = Viewer::default();
        viewer.set_filter(filter.clone());
        viewer.set_needle(needle.clone());
        Logs {
            namespace: StoredValue::new(namespace),
            name: StoredValue::new(name),
            span: StoredValue::new((url.query.since, url.query.until)),
            running: StoredValue::new(running),
            viewer: StoredValue::new(viewer),
            rev: RwSignal::new(0),
            filter: RwSignal::new(filter),
            needle: RwSignal::new(needle),
            needle_error: RwSignal::new(None),
            cursor: RwSignal::new(None),
            selected: RwSignal::new(None),
            target: RwSignal::new(None),
            focus: RwSignal::new(None),
            pending_step: RwSignal::new(None),
            wrap: RwSignal::new(false),
            utc: RwSignal::new(true),
            expand_all: RwSignal::new(true),
            follow: RwSignal::new(follow),
            status: RwSignal::new(Status::Starting),
            bad_lines: RwSignal::new(0),
            stick: RwSignal::new(follow),
            unseen_from: RwSignal::new(0),
            scroll_top: RwSignal::new(0.0),
            viewport: RwSignal::new((800.0, 600.0)),
            char_px: RwSignal::new(7.2),
            container: NodeRef::new(),
            search_input: NodeRef::new(),
        }
    }

    pub fn bump(&self) {
        self.rev.update(|r| *r += 1);
    }

    /// `/jobs/{ns}/{name}`.
    pub fn job_path(&self) -> String {
        format!("/jobs/{}/{}", encode(&self.namespace.get_value()), encode(&self.name.get_value()))
    }

    /// The API's URL for `query`.
    pub fn api_url(&self, query: &LogQuery) -> String {
        let qs = query.to_query_string();
        let base = format!("/api/v1{}/logs", self.job_path());
        if qs.is_empty() { base } else { format!("{base}?{qs}") }
    }

    /// The query that says what the page shows: the page's URL and, with `format=text`, the
    /// download's.
    pub fn query(&self, format: LogFormat) -> LogQuery {
        let filter = self.filter.get();
        let needle = self.needle.get();
        let (since, until) = self.span.get_value();
        let text = Some(needle.text.clone()).filter(|t| !t.is_empty());
        // The download holds what is on screen: the search narrows it only when it narrows
        // the view.
        let narrowing = format == LogFormat::Ndjson || filter.only_matching;
        LogQuery {
            sources: filter.sources,
            levels: filter.levels,
            q: text.clone().filter(|_| narrowing && !needle.regex),
            re: text.filter(|_| narrowing && needle.regex),
            since,
            until,
            follow: format == LogFormat::Ndjson && self.follow.get(),
            format,
        }
    }

    /// The page's address for another time span (which the server reads, so the page reloads).
    pub fn with_since(&self, since: Option<TimeBound>) -> String {
        let old = self.span.get_value();
        self.span.set_value((since, old.1));
        let qs = self.page_query_string();
        self.span.set_value(old);
        let path = format!("{}/logs", self.job_path());
        if qs.is_empty() { path } else { format!("{path}?{qs}") }
    }

    /// The page's own query string (with the viewer's extra flags).
    pub fn page_query_string(&self) -> String {
        let mut qs = self.query(LogFormat::Ndjson).to_query_string();
        let mut add = |p: &str| {
            if !qs.is_empty() {
                qs.push('&');
            }
            qs.push_str(p);
        };
        if self.filter.get().only_matching {
            add("only=true");
        }
        if self.needle.get().case_sensitive {
            add("case=true");
        }
        // A running job is followed unless the link says not to.
        if !self.follow.get() && self.running.get_value() {
            add("follow=false");
        }
        qs
    }

    pub fn set_filter(&self, filter: Filter) {
        self.viewer.update_value(|v| v.set_filter(filter.clone()));
        self.filter.set(filter);
        self.bump();
    }

    /// A level chip clicked: while every level shows, a click shows only that level (what one
    /// usually wants: "just the errors"); otherwise, and with `toggle` (Shift), it turns that level
    /// on or off. Every level on again means no filter.
    pub fn click_level(&self, level: LogLevel, toggle: bool) {
        let mut filter = self.filter.get_untracked();
        let all: Vec<LogLevel> = LogLevel::ALL.into_iter().filter(|l| *l != LogLevel::Marker).collect();
        let mut levels = if filter.levels.is_empty() { if toggle { all.clone() } else { Vec::new() } } else { filter.levels.clone() };
        if let Some(at) = levels.iter().position(|l| *l == level) {
            levels.remove(at);
        } else {
            levels.push(level);
        }
        levels.sort();
        filter.levels = if all.iter().all(|l| levels.contains(l)) || levels.is_empty() { Vec::new() } else { levels };
        self.set_filter(filter);
    }

    /// Shows exactly the sources with these indices (all of them: no filter), in the URL's
    /// compact form: a role when all of its sources are on, labels otherwise.
    pub fn set_sources(&self, on: &[bool]) {
        let sources = self.viewer.with_value(|v| {
            let store = v.store();
            if on.iter().all(|b| *b) {
                return Vec::new();
            }
            let mut filters = Vec::new();
            for (role, members) in store.sources_by_role() {
                let role_name = match role {
                    crate::api::PodRole::Driver => "driver",
                    crate::api::PodRole::Executor => "executor",
                    crate::api::PodRole::Controller => "controller",
                };
                let chosen: Vec<u16> = members.iter().copied().filter(|&i| on.get(i as usize).copied().unwrap_or(false)).collect();
                if !chosen.is_empty() && chosen.len() == members.len() && role != crate::api::PodRole::Driver {
                    filters.push(SourceFilter(role_name.to_string()));
                } else {
                    filters.extend(chosen.iter().map(|&i| SourceFilter(store.sources()[i as usize].label.clone())));
                }
            }
            // Nothing chosen still means "nothing", which an empty list would not say.
            if filters.is_empty() {
                filters.push(SourceFilter("none".into()));
            }
            filters
        });
        let filter = Filter { sources, ..self.filter.get_untracked() };
        self.set_filter(filter);
    }

    pub fn set_needle(&self, needle: Needle) {
        if needle == self.needle.get_untracked() {
            return;
        }
        self.viewer.update_value(|v| v.set_needle(needle.clone()));
        self.needle.set(needle);
        self.cursor.set(None);
        self.pending_step.set(None);
        self.bump();
        #[cfg(feature = "hydrate")]
        super::loader::pump_search(*self);
    }

    pub fn set_shape(&self, shape: Shape) {
        self.viewer.update_value(|v| v.set_shape(shape));
        self.bump();
    }

    /// The shape the controls ask for, at the current width.
    pub fn shape(&self) -> Shape {
        let columns = self.wrap.get_untracked().then(|| {
            let (width, _) = self.viewport.get_untracked();
            let chars = (width - super::list::FIXED_PX) / self.char_px.get_untracked().max(1.0);
            (chars.floor() as usize).saturating_sub(super::list::PREFIX_COLUMNS).max(20)
        });
        Shape { wrap_columns: columns, expand_all: self.expand_all.get_untracked() }
    }

    pub fn toggle_expanded(&self, event: u32) {
        self.viewer.update_value(|v| v.toggle_expanded(event));
        self.bump();
    }

    /// Makes event `i` visible, clearing the filters that hide it.
    pub fn reveal(&self, i: u32) {
        let (visible, kept) = self.viewer.with_value(|v| (v.is_visible(i), v.keeps(i)));
        if visible {
            return;
        }
        let mut filter = self.filter.get_untracked();
        if !kept {
            filter.sources.clear();
            filter.levels.clear();
        }
        filter.only_matching = false;
        self.set_filter(filter);
    }

    /// Scrolls so that event `i` shows (revealing and unfolding it as needed).
    pub fn go_to(&self, i: u32, unfold: bool) {
        self.reveal(i);
        if unfold && !self.viewer.with_value(|v| v.is_expanded(i)) {
            self.toggle_expanded(i);
        }
        self.stick.set(false);
        let (_, height) = self.viewport.get_untracked();
        let Some(top) = self.viewer.with_value(|v| v.position(i).map(|row| v.layout().scroll_to(row, height, Align::Context))) else {
            return;
        };
        self.scroll_to(top);
    }

    /// Sets the list's scroll position (the window follows at once; the element once drawn).
    pub fn scroll_to(&self, top: f64) {
        self.scroll_top.set(top);
        #[cfg(feature = "hydrate")]
        {
            let container = self.container;
            request_animation_frame(move || {
                if let Some(el) = container.get_untracked() {
                    el.set_scroll_top(top.round() as i32);
                }
            });
        }
    }

    /// Scrolls to the newest line and keeps it in view.
    pub fn scroll_to_latest(&self) {
        self.stick.set(true);
        let (_, height) = self.viewport.get_untracked();
        let bottom = self.viewer.with_value(|v| v.layout().bottom(height));
        self.scroll_to(bottom);
    }

    /// The event at the top of the view.
    pub fn top_event(&self) -> u32 {
        let (_, height) = self.viewport.get_untracked();
        let top = self.scroll_top.get_untracked();
        self.viewer.with_value(|v| {
            let w = v.window(top, height, 0.0);
            v.visible().get(w.first).copied().unwrap_or(0)
        })
    }

    /// Goes to event `i` and highlights it (the first error, an exception).
    pub fn jump(&self, i: u32) {
        self.focus.set(Some(i));
        self.go_to(i, true);
    }

    /// Steps to the next (or previous) search hit.
    pub fn step_hit(&self, forward: bool) {
        let anchor = self.top_event();
        let cursor = self.cursor.get_untracked();
        let (hit, searching) = self.viewer.with_value(|v| (v.next_hit(cursor, anchor, forward), !v.search().done(v.store())));
        match hit {
            Some(hit) => {
                self.pending_step.set(None);
                self.cursor.set(Some(hit));
                self.go_to(hit, true);
            }
            // The search is still looking: go once it finds something.
            None => self.pending_step.set(searching.then_some(forward)),
        }
    }

    /// Selects event `i` as the permalinked line and puts `#L<id>` in the address.
    pub fn select(&self, i: u32) {
        self.selected.set(Some(i));
        self.target.set(None);
        #[cfg(feature = "hydrate")]
        {
            let id = self.viewer.with_value(|v| v.store().id(i).to_string());
            super::browser::set_hash(&format!("L{}", encode(&id)));
        }
    }

    pub fn clear_selection(&self) {
        self.selected.set(None);
        #[cfg(feature = "hydrate")]
        super::browser::set_hash("");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_filters_search_and_flags() {
        let url = UrlState::parse("?source=driver,exec-3&level=ERROR&re=Lost.*3&only=true&case=1&follow=false");
        assert_eq!(url.query.sources, vec![SourceFilter("driver".into()), SourceFilter("exec-3".into())]);
        assert_eq!(url.query.re.as_deref(), Some("Lost.*3"));
        assert!(url.only_matching && url.case_sensitive && url.follow_given && !url.query.follow);
        assert!(url.error.is_none());
        let bad = UrlState::parse("level=LOUD&only");
        assert!(bad.error.is_some() && bad.only_matching && !bad.follow_given);
    }
}
