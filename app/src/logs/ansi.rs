//! ANSI escape sequences in log text: SGR colours (30-37, 90-97), bold, and reset become styled
//! runs; every other escape and control character is removed. The result is plain text plus
//! ranges, which the viewer renders as text nodes in spans (never as HTML).

use std::ops::Range;

/// A styled range of the plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub start: usize,
    pub end: usize,
    /// 0-7 for 30-37, 8-15 for 90-97.
    pub fg: Option<u8>,
    pub bold: bool,
}

/// Text without escapes, and the ranges that carry a style (unstyled text has no run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Styled {
    pub text: String,
    pub runs: Vec<Run>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    fg: Option<u8>,
    bold: bool,
}

/// Reads `s`'s escapes into styles. Text without ESC or control characters comes back as it is.
pub fn parse(s: &str) -> Styled {
    if !s.bytes().any(|b| b < 0x20 && b != b'\n' && b != b'\t' || b == 0x7f) {
        return Styled { text: s.to_string(), runs: Vec::new() };
    }
    let mut out = Styled { text: String::with_capacity(s.len()), runs: Vec::new() };
    let mut style = Style::default();
    let mut run_start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut plain_from = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let control = (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f;
        if !control {
            i += 1;
            continue;
        }
        out.text.push_str(&s[plain_from..i]);
        let (consumed, sgr) = if b == 0x1b { escape(&bytes[i..]) } else { (1, None) };
        i += consumed;
        plain_from = i;
        if let Some(params) = sgr {
            let next = apply(style, params);
            if next != style {
                close(&mut out, style, run_start);
                style = next;
                run_start = out.text.len();
            }
        }
    }
    out.text.push_str(&s[plain_from..]);
    close(&mut out, style, run_start);
    out
}

fn close(out: &mut Styled, style: Style, start: usize) {
    if style != Style::default() && out.text.len() > start {
        out.runs.push(Run { start, end: out.text.len(), fg: style.fg, bold: style.bold });
    }
}

/// The length of the escape sequence at the start of `b` (which begins with ESC), and its
/// parameters when it is an SGR sequence (`ESC [ ... m`).
fn escape(b: &[u8]) -> (usize, Option<&[u8]>) {
    match b.get(1) {
        Some(b'[') => {
            let mut j = 2;
            while j < b.len() && (0x20..0x40).contains(&b[j]) {
                j += 1;
            }
            match b.get(j) {
                Some(b'm') => (j + 1, Some(&b[2..j])),
                Some(f) if (0x40..0x7f).contains(f) => (j + 1, None),
                // Unterminated: drop what there is.
                _ => (j, None),
            }
        }
        Some(b']') => {
            // OSC: to BEL or ST (ESC \).
            let mut j = 2;
            while j < b.len() {
                if b[j] == 0x07 {
                    return (j + 1, None);
                }
                if b[j] == 0x1b && b.get(j + 1) == Some(&b'\\') {
                    return (j + 2, None);
                }
                j += 1;
            }
            (j, None)
        }
        Some(_) => {
            // ESC, intermediates, one final byte (`ESC ( B`, `ESC =`).
            let mut j = 1;
            while j < b.len() && (0x20..0x30).contains(&b[j]) {
                j += 1;
            }
            // Never split a multi-byte character: only an ASCII final byte is part of it.
            if j < b.len() && b[j] < 0x80 { (j + 1, None) } else { (j, None) }
        }
        None => (1, None),
    }
}

fn apply(mut style: Style, params: &[u8]) -> Style {
    let params = std::str::from_utf8(params).unwrap_or("");
    let mut codes = params.split([';', ':']).map(|p| if p.is_empty() { Some(0) } else { p.parse::<u16>().ok() });
    while let Some(code) = codes.next() {
        match code {
            Some(0) => style = Style::default(),
            Some(1) => style.bold = true,
            Some(22) => style.bold = false,
            Some(n @ 30..=37) => style.fg = Some((n - 30) as u8),
            Some(n @ 90..=97) => style.fg = Some((n - 90 + 8) as u8),
            Some(39) => style.fg = None,
            // 256 colours and RGB: the low 16 map to ours, the rest are skipped with their
            // arguments.
            Some(38) => match codes.next() {
                Some(Some(5)) => {
                    if let Some(Some(n)) = codes.next()
                        && n < 16
                    {
                        style.fg = Some(n as u8);
                    }
                }
                Some(Some(2)) => {
                    codes.next();
                    codes.next();
                    codes.next();
                }
                _ => {}
            },
            Some(48) => match codes.next() {
                Some(Some(5)) => {
                    codes.next();
                }
                Some(Some(2)) => {
                    codes.next();
                    codes.next();
                    codes.next();
                }
                _ => {}
            },
            _ => {}
        }
    }
    style
}

/// A piece of a line as the viewer renders it: a style and whether search marks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
    pub fg: Option<u8>,
    pub bold: bool,
    pub mark: bool,
}

/// Cuts `text` (with its `runs` and the search `marks`, both sorted and disjoint) into lines of
/// uniformly styled segments. Newlines end lines and belong to no segment; an empty line has no
/// segment.
pub fn lines(text: &str, runs: &[Run], marks: &[Range<usize>]) -> Vec<Vec<Segment>> {
    let mut cuts: Vec<usize> = Vec::with_capacity(2 + 2 * (runs.len() + marks.len()));
    cuts.push(0);
    cuts.push(text.len());
    cuts.extend(runs.iter().flat_map(|r| [r.start, r.end]));
    cuts.extend(marks.iter().flat_map(|m| [m.start, m.end]));
    cuts.extend(text.match_indices('\n').flat_map(|(i, _)| [i, i + 1]));
    cuts.retain(|&c| c <= text.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = vec![Vec::new()];
    let (mut run, mut mark) = (0, 0);
    for pair in cuts.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        if &text[start..end] == "\n" {
            out.push(Vec::new());
            continue;
        }
        while run < runs.len() && runs[run].end <= start {
            run += 1;
        }
        while mark < marks.len() && marks[mark].end <= start {
            mark += 1;
        }
        let styled = runs.get(run).filter(|r| r.start <= start);
        let segment = Segment {
            start,
            end,
            fg: styled.and_then(|r| r.fg),
            bold: styled.is_some_and(|r| r.bold),
            mark: marks.get(mark).is_some_and(|m| m.start <= start),
        };
        out.last_mut().expect("one line at least").push(segment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_bold_become_runs_and_other_escapes_vanish() {
        let s = parse("\x1b[1;31mERROR\x1b[0m plain \x1b[92mok\x1b[39m\x1b]0;title\x07 \x1b[2Kend\r");
        assert_eq!(s.text, "ERROR plain ok end");
        assert_eq!(s.runs, vec![Run { start: 0, end: 5, fg: Some(1), bold: true }, Run { start: 12, end: 14, fg: Some(10), bold: false }]);
    }

    #[test]
    fn plain_text_is_left_alone_and_broken_escapes_do_not_panic() {
        assert_eq!(parse("a\tb\nc").text, "a\tb\nc");
        assert!(parse("a\tb").runs.is_empty());
        for s in ["\x1b", "\x1b[", "\x1b[31", "x\x1b]unterminated", "\x1b(B✓", "\x1bé", "\x1b[38;5;200mx", "\x1b[38;2;1;2;3mx\x1b[m"] {
            let styled = parse(s);
            assert!(!styled.text.contains('\x1b'), "{s:?} -> {:?}", styled.text);
        }
        assert_eq!(parse("\x1b(B✓").text, "✓");
        assert_eq!(parse("\x1bé").text, "é");
        assert_eq!(parse("\x1b[38;5;3mx").runs[0].fg, Some(3));
        assert!(parse("\x1b[38;2;255;0;0mx").runs.is_empty());
        // The style carries over a line break.
        let s = parse("\x1b[33mwarn\nnext\x1b[0m");
        assert_eq!(s.runs, vec![Run { start: 0, end: 9, fg: Some(3), bold: false }]);
    }

    #[test]
    fn lines_cut_at_styles_marks_and_newlines() {
        let s = parse("ab\x1b[31mcd\nef\x1b[0mgh");
        let marks = [1..3, 6..7];
        let lines = lines(&s.text, &s.runs, &marks);
        let show = |l: &Vec<Segment>| l.iter().map(|g| (&s.text[g.start..g.end], g.fg, g.mark)).collect::<Vec<_>>();
        assert_eq!(show(&lines[0]), vec![("a", None, false), ("b", None, true), ("c", Some(1), true), ("d", Some(1), false)]);
        assert_eq!(show(&lines[1]), vec![("e", Some(1), false), ("f", Some(1), true), ("gh", None, false)]);
        assert_eq!(super::lines("a\n\nb", &[], &[]).len(), 3);
        assert!(super::lines("a\n\nb", &[], &[])[1].is_empty());
        assert!(super::lines("", &[], &[])[0].is_empty());
    }
}
