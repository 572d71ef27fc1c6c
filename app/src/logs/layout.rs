//! Where rows sit: each visible event's height in lines, their prefix sums, and which rows a
//! scroll position shows.
//!
//! Without wrapping a row is one line per text line (exact); with wrapping its height is
//! estimated from its length and the text column's width in monospace characters. Rows are laid
//! out in normal flow inside a window that is absolutely positioned in a tall spacer, so an
//! estimate that is off moves the rows below it a little but never overlaps them.
//!
//! Browsers cap an element's height (Firefox near 17.9 million pixels), so past
//! [`MAX_SPACER_PX`] the spacer is shorter than the content and scroll positions are scaled.

/// One text line's height in pixels (the rows' `leading-5`).
pub const LINE_PX: f64 = 20.0;
/// The tallest spacer the page builds.
pub const MAX_SPACER_PX: f64 = 8_000_000.0;
/// At most this many lines of one event are shown; the rest are summarised in one line.
pub const MAX_EVENT_LINES: u32 = 1000;
/// The most rows a window ever holds, however small the rows.
pub const MAX_WINDOW_ROWS: usize = 400;
/// Columns a tab takes (the rows' `tab-size`).
pub const TAB_COLUMNS: usize = 4;

/// How many lines an event takes on screen.
pub fn row_lines(text: &str, lines: u32, expanded: bool, wrap_columns: Option<usize>) -> u32 {
    let shown = if expanded { lines.min(MAX_EVENT_LINES) } else { 1 };
    let more = u32::from(expanded && lines > MAX_EVENT_LINES);
    let Some(columns) = wrap_columns else { return shown + more };
    let columns = columns.max(1);
    let wrapped: usize = text.split('\n').take(shown as usize).map(|line| width(line).div_ceil(columns).max(1)).sum();
    (wrapped as u32).saturating_add(more)
}

/// A line's width in monospace columns (tabs as [`TAB_COLUMNS`]).
fn width(line: &str) -> usize {
    let tabs = line.bytes().filter(|b| *b == b'\t').count() * (TAB_COLUMNS - 1);
    tabs + if line.is_ascii() { line.len() } else { line.chars().count() }
}

/// Prefix sums of row heights, in lines.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// `prefix[i]` is the line where row `i` starts; one more entry than rows.
    prefix: Vec<u32>,
}

/// The rows to render for a scroll position, and where.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Rows `first..end` are rendered.
    pub first: usize,
    pub end: usize,
    /// The window's top, in the spacer's pixels.
    pub top_px: f64,
    /// The spacer's height in pixels.
    pub spacer_px: f64,
}

/// Where to put a row when scrolling to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// A third of the way down the viewport, so the lines above give context.
    Context,
    /// At the top.
    Top,
}

impl Layout {
    pub fn clear(&mut self) {
        self.prefix.clear();
    }

    pub fn push(&mut self, lines: u32) {
        if self.prefix.is_empty() {
            self.prefix.push(0);
        }
        let last = *self.prefix.last().expect("not empty");
        self.prefix.push(last.saturating_add(lines));
    }

    pub fn rows(&self) -> usize {
        self.prefix.len().saturating_sub(1)
    }

    pub fn total_lines(&self) -> u32 {
        self.prefix.last().copied().unwrap_or(0)
    }

    /// The line where row `row` starts.
    pub fn line_of(&self, row: usize) -> u32 {
        self.prefix.get(row).copied().unwrap_or_else(|| self.total_lines())
    }

    /// The row that holds content line position `line` (clamped to the rows there are).
    pub fn row_at(&self, line: f64) -> usize {
        let rows = self.rows();
        if rows == 0 {
            return 0;
        }
        let after = self.prefix.partition_point(|&p| f64::from(p) <= line);
        after.saturating_sub(1).min(rows - 1)
    }

    fn total_px(&self) -> f64 {
        f64::from(self.total_lines()) * LINE_PX
    }

    pub fn spacer_px(&self) -> f64 {
        self.total_px().min(MAX_SPACER_PX)
    }

    /// Content pixels per scrolled pixel (1 unless the content is taller than the spacer).
    fn scale(&self, viewport_px: f64) -> f64 {
        let (total, spacer) = (self.total_px(), self.spacer_px());
        if total <= spacer || spacer <= viewport_px { 1.0 } else { (total - viewport_px) / (spacer - viewport_px) }
    }

    /// The rows a viewport of `viewport_px` at `scroll_top` shows, with `overscan_px` more on
    /// either side.
    pub fn window(&self, scroll_top: f64, viewport_px: f64, overscan_px: f64) -> Window {
        let spacer_px = self.spacer_px();
        if self.rows() == 0 {
            return Window { first: 0, end: 0, top_px: 0.0, spacer_px };
        }
        let scroll_top = scroll_top.clamp(0.0, (spacer_px - viewport_px).max(0.0));
        let content_y = scroll_top * self.scale(viewport_px);
        let first = self.row_at((content_y - overscan_px) / LINE_PX);
        let last = self.row_at((content_y + viewport_px + overscan_px) / LINE_PX);
        let end = (last + 1).min(first + MAX_WINDOW_ROWS);
        let top_px = scroll_top - (content_y - f64::from(self.line_of(first)) * LINE_PX);
        Window { first, end, top_px, spacer_px }
    }

    /// The scroll position that shows row `row` as `align` says.
    pub fn scroll_to(&self, row: usize, viewport_px: f64, align: Align) -> f64 {
        let offset = match align {
            Align::Context => (viewport_px / 3.0).floor(),
            Align::Top => 0.0,
        };
        let content_y = f64::from(self.line_of(row)) * LINE_PX - offset;
        (content_y / self.scale(viewport_px)).clamp(0.0, (self.spacer_px() - viewport_px).max(0.0))
    }

    /// The scroll position of the very end.
    pub fn bottom(&self, viewport_px: f64) -> f64 {
        (self.spacer_px() - viewport_px).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(heights: &[u32]) -> Layout {
        let mut l = Layout::default();
        for &h in heights {
            l.push(h);
        }
        l
    }

    #[test]
    fn heights_count_lines_wraps_and_tabs() {
        assert_eq!(row_lines("a\nb\nc", 3, true, None), 3);
        assert_eq!(row_lines("a\nb\nc", 3, false, None), 1);
        assert_eq!(row_lines(&"x".repeat(25), 1, true, Some(10)), 3);
        assert_eq!(row_lines("", 1, true, Some(10)), 1);
        assert_eq!(row_lines("0123456789\n\tat x", 2, true, Some(10)), 2);
        assert_eq!(row_lines("0123456789\n\tat x.yz", 2, true, Some(10)), 3);
        assert_eq!(row_lines(&"é".repeat(20), 1, true, Some(10)), 2);
        assert_eq!(row_lines(&"x\n".repeat(5000), 5001, true, None), MAX_EVENT_LINES + 1);
        assert_eq!(row_lines(&"x".repeat(25), 1, false, Some(0)), 25);
    }

    #[test]
    fn prefix_sums_find_rows_by_position() {
        let l = layout(&[1, 3, 1, 2]);
        assert_eq!((l.rows(), l.total_lines()), (4, 7));
        assert_eq!(
            [l.row_at(0.0), l.row_at(0.99), l.row_at(1.0), l.row_at(3.9), l.row_at(4.0), l.row_at(6.5), l.row_at(100.0)],
            [0, 0, 1, 1, 2, 3, 3]
        );
        assert_eq!(l.line_of(3), 5);
        assert_eq!(Layout::default().row_at(5.0), 0);
    }

    #[test]
    fn a_window_covers_the_viewport_and_its_overscan_only() {
        let l = layout(&vec![1; 100_000]);
        let w = l.window(200_000.0, 600.0, 200.0);
        assert_eq!((w.first, w.end), (9_990, 10_041));
        assert_eq!(w.top_px, 9_990.0 * LINE_PX);
        assert_eq!(w.spacer_px, 2_000_000.0);
        let empty = Layout::default().window(0.0, 600.0, 200.0);
        assert_eq!((empty.first, empty.end), (0, 0));
        // Tiny rows never put more than the cap in the window.
        let w = layout(&vec![0; 10_000]).window(0.0, 600.0, 200.0);
        assert!(w.end - w.first <= MAX_WINDOW_ROWS);
    }

    #[test]
    fn a_scaled_spacer_still_reaches_every_row() {
        let l = layout(&vec![1; 1_000_000]); // 20 million pixels: scaled
        let viewport = 800.0;
        let bottom = l.bottom(viewport);
        assert_eq!(bottom, MAX_SPACER_PX - viewport);
        let w = l.window(bottom, viewport, 0.0);
        assert_eq!(w.end, 1_000_000);
        // The last row ends exactly at the spacer's bottom.
        assert!((w.top_px + (1_000_000 - w.first) as f64 * LINE_PX - w.spacer_px).abs() < 1e-6);
        let w = l.window(0.0, viewport, 0.0);
        assert_eq!((w.first, w.top_px), (0, 0.0));
        // Scrolling to a row shows it at the top.
        for row in [0, 1, 123_456, 500_000, 999_960] {
            let top = l.scroll_to(row, viewport, Align::Top);
            let w = l.window(top, viewport, 0.0);
            assert!(w.first <= row && row < w.end, "row {row}: {w:?}");
            let y = w.top_px + f64::from(l.line_of(row) - l.line_of(w.first)) * LINE_PX - top;
            assert!(y.abs() < 1.0, "row {row} at {y}");
        }
    }
}
