//! NDJSON read incrementally: bytes arrive in chunks that split lines (and characters) anywhere;
//! whole lines come out as they complete.

use crate::api::LogEvent;

/// Splits a byte stream into lines.
#[derive(Default)]
pub struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Feeds one chunk; `each` gets every line it completes (without `\n` or `\r\n`; empty lines
    /// skipped).
    pub fn push(&mut self, chunk: &[u8], mut each: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            let line = &rest[..nl];
            if self.partial.is_empty() {
                emit(line, &mut each);
            } else {
                self.partial.extend_from_slice(line);
                emit(&self.partial, &mut each);
                self.partial.clear();
            }
            rest = &rest[nl + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// What is left of an unfinished last line (a stream cut short ends in one).
    pub fn unfinished(&self) -> &[u8] {
        &self.partial
    }
}

fn emit(line: &[u8], each: &mut impl FnMut(&[u8])) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.is_empty() {
        each(line);
    }
}

/// One event from one line.
pub fn parse(line: &[u8]) -> Result<LogEvent, String> {
    serde_json::from_slice(line).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_whole_however_the_chunks_fall() {
        let text = "{\"a\":1}\n{\"b\":\"é\"}\r\n\n{\"c\":3}\npartial";
        let bytes = text.as_bytes();
        for size in [1, 2, 3, 7, 100] {
            let mut lines = Lines::default();
            let mut out: Vec<String> = Vec::new();
            for chunk in bytes.chunks(size) {
                lines.push(chunk, |l| out.push(String::from_utf8(l.to_vec()).unwrap()));
            }
            assert_eq!(out, ["{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}"], "chunks of {size}");
            assert_eq!(lines.unfinished(), b"partial");
        }
    }

    #[test]
    fn an_event_line_parses_and_a_bad_one_says_why() {
        let line = br#"{"id":"1","time":"2026-11-21T05:00:00.000000001Z","source":{"role":"executor","pod":"p","container":"c","executor_id":"3"},"level":"WARN","text":"t"}"#;
        let event = parse(line).unwrap();
        assert_eq!(event.source.label(), "exec-3");
        assert!(parse(b"{not json").is_err());
    }
}
