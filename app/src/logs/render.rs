//! What one row shows, as plain data: the page turns a [`RowView`] into elements (text nodes in
//! spans, never HTML), and the tests read it without a browser.

use super::ansi;
use super::colour::{self, SourceColour};
use super::layout::MAX_EVENT_LINES;
use super::search::Matcher;
use super::store::Stream;
use super::viewer::Viewer;
use crate::api::LogLevel;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A styled piece of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    /// Tailwind classes (ANSI colour, bold); empty for plain text.
    pub class: &'static str,
    /// Marked by the search.
    pub mark: bool,
}

/// One event's row.
#[derive(Clone, Debug, PartialEq)]
pub struct RowView {
    pub event: u32,
    pub id: String,
    pub time: String,
    pub label: String,
    /// `pod/container`, for the label's tooltip.
    pub origin: String,
    pub colour: SourceColour,
    pub level: LogLevel,
    pub stderr: bool,
    /// The lines shown: the first, then the folded ones while expanded.
    pub lines: Vec<Vec<Piece>>,
    /// Folded lines not shown (folded away, or past [`MAX_EVENT_LINES`]).
    pub hidden: u32,
    pub multiline: bool,
    pub expanded: bool,
}

/// The row of event `i`; `matcher` marks the search's matches.
pub fn row(viewer: &Viewer, i: u32, tz: &TimeZone, matcher: Option<&dyn Matcher>) -> RowView {
    let store = viewer.store();
    let record = store.record(i);
    let source = store.source(i);
    let styled = ansi::parse(store.text(i));
    let mut marks = Vec::new();
    if let Some(m) = matcher {
        m.find(&styled.text, &mut marks);
    }
    let expanded = viewer.is_expanded(i);
    let shown = if expanded { record.lines.min(MAX_EVENT_LINES) } else { 1 };
    let lines: Vec<Vec<Piece>> = ansi::lines(&styled.text, &styled.runs, &marks)
        .into_iter()
        .take(shown as usize)
        .map(|segments| {
            segments
                .into_iter()
                .map(|s| Piece { text: styled.text[s.start..s.end].to_string(), class: piece_class(s.fg, s.bold), mark: s.mark })
                .collect()
        })
        .collect();
    RowView {
        event: i,
        id: store.id(i).to_string(),
        time: time_text(store.time(i), tz),
        label: source.label.clone(),
        origin: format!("{}/{}", source.source.pod, source.source.container),
        colour: colour::PALETTE[source.colour],
        level: record.level,
        stderr: record.stream == Stream::Stderr,
        hidden: record.lines - shown,
        lines,
        multiline: record.lines > 1,
        expanded,
    }
}

fn piece_class(fg: Option<u8>, bold: bool) -> &'static str {
    match (fg, bold) {
        (None, false) => "",
        (None, true) => "font-bold",
        (Some(c), false) => colour::ANSI[c as usize % 16],
        (Some(c), true) => ANSI_BOLD[c as usize % 16],
    }
}

const ANSI_BOLD: [&str; 16] = [
    "font-bold text-gray-900",
    "font-bold text-red-700",
    "font-bold text-green-700",
    "font-bold text-yellow-700",
    "font-bold text-blue-700",
    "font-bold text-fuchsia-700",
    "font-bold text-cyan-700",
    "font-bold text-gray-500",
    "font-bold text-gray-600",
    "font-bold text-red-500",
    "font-bold text-green-600",
    "font-bold text-yellow-600",
    "font-bold text-blue-500",
    "font-bold text-fuchsia-500",
    "font-bold text-cyan-600",
    "font-bold text-gray-400",
];

/// `2026-11-21 05:52:03.123` in `tz`: to the millisecond, the same width in every zone.
pub fn time_text(t: Timestamp, tz: &TimeZone) -> String {
    let z = t.to_zoned(tz.clone());
    format!("{}.{:03}", z.strftime("%Y-%m-%d %H:%M:%S"), z.millisecond())
}

/// `UTC` or `UTC+01:00`: what the time column's zone is, now.
pub fn zone_label(tz: &TimeZone, now: Timestamp) -> String {
    let seconds = tz.to_offset(now).seconds();
    if seconds == 0 {
        return "UTC".to_string();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::search::Plain;
    use crate::logs::store::tests::event;
    use crate::logs::viewer::Shape;

    #[test]
    fn a_row_has_time_source_styles_and_marks() {
        let mut v = Viewer::default();
        v.push(event("x1", "exec-3", LogLevel::Error, "\x1b[31mboom\x1b[0m at <b>here</b>\n\tframe one\n\tframe two"));
        v.refresh();
        let row = row(&v, 0, &TimeZone::UTC, Some(&Plain::new("oo", false)));
        assert_eq!(row.time, "2026-11-21 05:00:00.000");
        assert_eq!((row.label.as_str(), row.origin.as_str()), ("exec-3", "job-exec-3/spark"));
        assert!(row.stderr && row.multiline && row.expanded);
        assert_eq!(row.lines.len(), 3);
        let first: Vec<(&str, &str, bool)> = row.lines[0].iter().map(|p| (p.text.as_str(), p.class, p.mark)).collect();
        assert_eq!(
            first,
            vec![("b", "text-red-700", false), ("oo", "text-red-700", true), ("m", "text-red-700", false), (" at <b>here</b>", "", false)]
        );
        assert_eq!(row.hidden, 0);
        v.set_shape(Shape { expand_all: false, ..Shape::default() });
        let folded = super::row(&v, 0, &TimeZone::UTC, None);
        assert_eq!((folded.lines.len(), folded.hidden, folded.expanded), (1, 2, false));
    }

    #[test]
    fn times_read_to_the_millisecond_in_either_zone() {
        let t: Timestamp = "2026-11-21T05:52:03.123456789Z".parse().unwrap();
        assert_eq!(time_text(t, &TimeZone::UTC), "2026-11-21 05:52:03.123");
        let plus_five_thirty = TimeZone::fixed(jiff::tz::offset(5));
        assert_eq!(time_text(t, &plus_five_thirty), "2026-11-21 10:52:03.123");
        assert_eq!(zone_label(&TimeZone::UTC, t), "UTC");
        assert_eq!(zone_label(&plus_five_thirty, t), "UTC+05:00");
        let minus = TimeZone::fixed(jiff::tz::Offset::from_seconds(-(3 * 3600 + 30 * 60)).unwrap());
        assert_eq!(zone_label(&minus, t), "UTC-03:30");
    }
}
