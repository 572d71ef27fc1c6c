//! Bytes to lines, whatever the bytes: a stream cut anywhere (a chunk may end mid-line or
//! mid-character), lines of megabytes (cut at [`MAX_LINE`] with a marker, the rest skipped
//! without being held), invalid UTF-8 (replacement characters) and `\r\n` endings.

/// The longest line kept whole. Longer lines keep their first `MAX_LINE` bytes and say how long
/// they were: a megabyte of base64 in a log is never what anyone reads, and holding it would let
/// one line decide the server's memory.
pub const MAX_LINE: usize = 64 * 1024;

/// One line, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// The line's length in bytes when it was cut at [`MAX_LINE`].
    pub cut_from: Option<usize>,
}

impl Line {
    /// The text with the cut said in it, as the viewer shows it.
    pub fn into_text(self) -> String {
        match self.cut_from {
            None => self.text,
            Some(len) => format!("{} … [line cut: {len} bytes, first {MAX_LINE} shown]", self.text),
        }
    }
}

/// Splits a byte stream into lines, one chunk at a time.
#[derive(Default)]
pub struct LineSplitter {
    /// The line so far (at most `max` bytes).
    partial: Vec<u8>,
    /// Bytes of the current line, including those dropped past the cap.
    length: usize,
    max: usize,
}

impl LineSplitter {
    pub fn new() -> LineSplitter {
        LineSplitter::with_max(MAX_LINE)
    }

    pub fn with_max(max: usize) -> LineSplitter {
        LineSplitter { partial: Vec::new(), length: 0, max }
    }

    /// Feeds a chunk; every line it completes goes to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut impl FnMut(Line)) {
        while let Some(end) = memchr(b'\n', chunk) {
            self.take(&chunk[..end]);
            out(self.complete());
            chunk = &chunk[end + 1..];
        }
        self.take(chunk);
    }

    /// The stream ended: a last line without its newline still counts.
    pub fn finish(&mut self, out: &mut impl FnMut(Line)) {
        if self.length > 0 {
            out(self.complete());
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = self.max.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.length += bytes.len();
    }

    fn complete(&mut self) -> Line {
        let mut bytes = std::mem::take(&mut self.partial);
        let length = std::mem::take(&mut self.length);
        let cut = length > self.max;
        if !cut && bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Line { text: decode(bytes, cut), cut_from: cut.then_some(length) }
    }
}

/// UTF-8 with replacement characters for what is not. A line cut at the cap may end inside a
/// character: that tail is dropped rather than shown as garbage.
fn decode(bytes: Vec<u8>, cut: bool) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let valid_until = std::str::from_utf8(&bytes).map_or_else(|e| e.valid_up_to(), |_| bytes.len());
            let tail_is_a_cut_character = cut && bytes.len() - valid_until < 4 && std::str::from_utf8(&bytes[valid_until..]).is_err();
            if tail_is_a_cut_character && std::str::from_utf8(&bytes[..valid_until]).is_ok() {
                return String::from_utf8_lossy(&bytes[..valid_until]).into_owned();
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<Line> {
        let mut splitter = LineSplitter::with_max(max);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut |l| lines.push(l));
        }
        splitter.finish(&mut |l| lines.push(l));
        lines
    }

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn chunks_cut_anywhere_give_the_same_lines() {
        let whole = "one\r\ntwo\nthrée\n\nlast".as_bytes();
        let expected = ["one", "two", "thrée", "", "last"];
        for cut in 0..whole.len() {
            let lines = split(&[&whole[..cut], &whole[cut..]], 100);
            assert_eq!(texts(&lines), expected, "cut at {cut}");
        }
    }

    #[test]
    fn long_lines_are_cut_and_say_so_and_bad_bytes_are_replaced() {
        let long = vec![b'x'; 1000];
        let lines = split(&[&long, b"\nnext\n"], 10);
        assert_eq!(lines[0].text, "xxxxxxxxxx");
        assert_eq!(lines[0].cut_from, Some(1000));
        assert!(lines[0].clone().into_text().contains("[line cut: 1000 bytes"));
        assert_eq!(lines[1], Line { text: "next".into(), cut_from: None });
        let bad = split(&[b"ok \xff\xfe end\n"], 100);
        assert_eq!(bad[0].text, "ok \u{fffd}\u{fffd} end");
        // A cap that falls inside a character drops the half character.
        let accented = split(&["aé".as_bytes()], 2);
        assert_eq!(accented[0].text, "a");
    }
}
