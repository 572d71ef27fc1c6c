//! Search: what the user typed, how it matches a text, and the run that finds every event that
//! matches as events arrive, a slice at a time so a million lines never block the page.
//!
//! Plain text matching is here; a regular expression runs in the browser's own engine
//! (`RegExp`), behind the same [`Matcher`] trait.

use super::store::Store;
use std::borrow::Cow;
use std::ops::Range;

/// What the search box holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needle {
    pub text: String,
    pub regex: bool,
    pub case_sensitive: bool,
}

impl Needle {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Finds a needle in texts. Ranges are byte offsets into the text, sorted and disjoint.
pub trait Matcher {
    fn find(&self, text: &str, out: &mut Vec<Range<usize>>);
    fn is_match(&self, text: &str) -> bool;
}

/// A plain-text needle; case-insensitive unless asked.
pub struct Plain {
    needle: String,
    case_sensitive: bool,
}

impl Plain {
    pub fn new(needle: &str, case_sensitive: bool) -> Plain {
        Plain { needle: needle.to_string(), case_sensitive }
    }

    /// The end of a match of the needle at `start`, if one starts there.
    fn match_at(&self, text: &str, start: usize) -> Option<usize> {
        let mut rest = text[start..].char_indices();
        let mut end = start;
        for n in self.needle.chars() {
            let (i, c) = rest.next()?;
            if !c.to_lowercase().eq(n.to_lowercase()) {
                return None;
            }
            end = start + i + c.len_utf8();
        }
        Some(end)
    }
}

impl Matcher for Plain {
    fn find(&self, text: &str, out: &mut Vec<Range<usize>>) {
        let n = self.needle.len();
        if n == 0 {
            return;
        }
        if self.case_sensitive {
            out.extend(text.match_indices(self.needle.as_str()).map(|(i, m)| i..i + m.len()));
        } else if self.needle.is_ascii() {
            // An ASCII needle only ever matches ASCII bytes, so every match sits on character
            // boundaries.
            let (hay, needle) = (text.as_bytes(), self.needle.as_bytes());
            let mut i = 0;
            while i + n <= hay.len() {
                if hay[i..i + n].eq_ignore_ascii_case(needle) {
                    out.push(i..i + n);
                    i += n;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = 0;
            while i < text.len() {
                match self.match_at(text, i) {
                    Some(end) if end > i => {
                        out.push(i..end);
                        i = end;
                    }
                    _ => i += text[i..].chars().next().map_or(1, char::len_utf8),
                }
            }
        }
    }

    fn is_match(&self, text: &str) -> bool {
        if self.case_sensitive {
            text.contains(self.needle.as_str())
        } else {
            crate::log_query::contains_ignoring_case(text, &self.needle)
                || (!self.needle.is_ascii() && {
                    let mut v = Vec::new();
                    self.find(text, &mut v);
                    !v.is_empty()
                })
        }
    }
}

/// The text search sees: without ANSI escapes, as it is shown.
pub fn searchable(text: &str) -> Cow<'_, str> {
    if text.contains('\x1b') { Cow::Owned(super::ansi::parse(text).text) } else { Cow::Borrowed(text) }
}

/// Byte offsets for UTF-16 offsets (what JavaScript's string indices count), asked in
/// increasing order, so a `RegExp` match maps onto the Rust string in one pass.
pub struct Utf16Offsets<'a> {
    chars: std::str::CharIndices<'a>,
    len: usize,
    /// The UTF-16 offset and byte offset reached.
    at: (usize, usize),
}

impl<'a> Utf16Offsets<'a> {
    pub fn new(text: &'a str) -> Utf16Offsets<'a> {
        Utf16Offsets { chars: text.char_indices(), len: text.len(), at: (0, 0) }
    }

    /// The byte offset of UTF-16 offset `u` (not less than the last one asked); an offset inside
    /// a surrogate pair rounds up to the next character.
    pub fn byte(&mut self, u: usize) -> usize {
        while self.at.0 < u {
            match self.chars.next() {
                Some((i, c)) => self.at = (self.at.0 + c.len_utf16(), i + c.len_utf8()),
                None => return self.len,
            }
        }
        self.at.1
    }
}

/// One search over the store: which events match, found in index order, a slice at a time.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub needle: Needle,
    /// Events below this index have been looked at.
    pub scanned: u32,
    /// Indices of the events that match, ascending.
    pub hits: Vec<u32>,
}

impl Run {
    pub fn new(needle: Needle) -> Run {
        Run { needle, scanned: 0, hits: Vec::new() }
    }

    /// Looks at up to `budget` more events; true once every event in the store has been seen.
    pub fn step(&mut self, store: &Store, matcher: &dyn Matcher, budget: usize) -> bool {
        let end = (self.scanned as usize + budget).min(store.len()) as u32;
        if !self.needle.is_empty() {
            for i in self.scanned..end {
                if matcher.is_match(&searchable(store.text(i))) {
                    self.hits.push(i);
                }
            }
        }
        self.scanned = end;
        self.done(store)
    }

    pub fn done(&self, store: &Store) -> bool {
        self.scanned as usize >= store.len()
    }

    pub fn is_hit(&self, event: u32) -> bool {
        self.hits.binary_search(&event).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::LogLevel;
    use crate::logs::store::tests::event;

    fn find(m: &dyn Matcher, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        m.find(text, &mut out);
        out
    }

    #[test]
    fn plain_search_ignores_case_and_finds_every_occurrence() {
        let m = Plain::new("lost", false);
        assert_eq!(find(&m, "Lost executor; LOST task; lostlost"), vec![0..4, 15..19, 26..30, 30..34]);
        assert!(m.is_match("executor LoSt"));
        assert!(!m.is_match("los t"));
        let exact = Plain::new("Lost", true);
        assert_eq!(find(&exact, "Lost lost"), vec![0..4]);
        assert!(!exact.is_match("lost"));
        assert!(find(&Plain::new("", false), "abc").is_empty());
    }

    #[test]
    fn non_ascii_needles_match_on_character_boundaries() {
        let m = Plain::new("größe", false);
        let text = "Die GRÖßE ist ✓ größe";
        let found = find(&m, text);
        assert_eq!(found.len(), 2);
        for r in &found {
            assert!(text[r.clone()].to_lowercase() == "größe");
        }
        assert!(m.is_match(text));
        assert!(!m.is_match("grosse"));
        // An ASCII needle never matches inside a multi-byte character.
        assert_eq!(find(&Plain::new("e", false), "é e"), vec![3..4]);
    }

    #[test]
    fn utf16_offsets_map_to_bytes() {
        let text = "a😀é b";
        let mut map = Utf16Offsets::new(text);
        assert_eq!(map.byte(0), 0);
        assert_eq!(map.byte(1), 1);
        assert_eq!(map.byte(3), 5); // after the surrogate pair
        assert_eq!(map.byte(4), 7); // after é
        assert_eq!(map.byte(6), 9);
        assert_eq!(map.byte(60), text.len());
    }

    #[test]
    fn a_run_scans_in_slices_and_skips_ansi_escapes() {
        let mut store = Store::default();
        for i in 0..10 {
            let text = if i % 3 == 0 { format!("\x1b[31mboom\x1b[0m {i}") } else { format!("fine {i}") };
            store.push(event(&i.to_string(), "driver", LogLevel::Info, &text));
        }
        let mut run = Run::new(Needle { text: "m 3".into(), ..Needle::default() });
        let m = Plain::new("m 3", false);
        assert!(!run.step(&store, &m, 4));
        assert_eq!(run.scanned, 4);
        assert!(run.step(&store, &m, 100));
        assert_eq!(run.hits, vec![3]);
        assert!(run.is_hit(3) && !run.is_hit(6));
    }
}
