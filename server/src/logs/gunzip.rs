//! Gzip, decoded as the bytes arrive: an archive object is never held whole, compressed or not.
//!
//! Objects are recognised by their magic bytes, not their names (a shipper's `.gz` suffix is
//! configuration, and some write plain text under it). Concatenated gzip members (what
//! multipart uploads of separately compressed parts produce) decode as one stream.

use flate2::write::MultiGzDecoder;
use std::io::Write;

/// Input is fed in slices of this size, so one slice of a highly compressed object expands to
/// at most a few megabytes before it is handed on.
const SLICE: usize = 8 * 1024;

pub enum Decoder {
    /// Not yet known: fewer than two bytes seen.
    Sniffing(Vec<u8>),
    Plain,
    Gzip(Box<MultiGzDecoder<Vec<u8>>>),
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::Sniffing(Vec::new())
    }
}

impl Decoder {
    /// Feeds compressed (or plain) bytes; decoded bytes go to `out` in pieces.
    pub fn push(&mut self, chunk: &[u8], out: &mut impl FnMut(&[u8])) -> std::io::Result<()> {
        if let Decoder::Sniffing(seen) = self {
            seen.extend_from_slice(chunk);
            if seen.len() < 2 {
                return Ok(());
            }
            let seen = std::mem::take(seen);
            *self = if seen.starts_with(&[0x1f, 0x8b]) { Decoder::Gzip(Box::new(MultiGzDecoder::new(Vec::new()))) } else { Decoder::Plain };
            return self.push(&seen, out);
        }
        match self {
            Decoder::Plain => out(chunk),
            Decoder::Gzip(decoder) => {
                for slice in chunk.chunks(SLICE) {
                    decoder.write_all(slice)?;
                    let decoded = decoder.get_mut();
                    if !decoded.is_empty() {
                        out(decoded);
                        decoded.clear();
                    }
                }
            }
            Decoder::Sniffing(_) => {}
        }
        Ok(())
    }

    /// The input ended: a gzip stream must be complete.
    pub fn finish(&mut self, out: &mut impl FnMut(&[u8])) -> std::io::Result<()> {
        match std::mem::replace(self, Decoder::Plain) {
            Decoder::Sniffing(seen) => out(&seen),
            Decoder::Gzip(mut decoder) => {
                decoder.try_finish()?;
                let rest = decoder.finish()?;
                if !rest.is_empty() {
                    out(&rest);
                }
            }
            Decoder::Plain => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn decode(chunks: &[&[u8]]) -> std::io::Result<Vec<u8>> {
        let mut decoder = Decoder::default();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.push(chunk, &mut |b| out.extend_from_slice(b))?;
        }
        decoder.finish(&mut |b| out.extend_from_slice(b))?;
        Ok(out)
    }

    #[test]
    fn gzip_members_and_plain_text_in_any_chunking() {
        let text = b"line one\nline two\n".repeat(5000);
        let mut two_members = gzip(&text);
        two_members.extend(gzip(b"third\n"));
        for cut in [1, 2, 3, 100, two_members.len() / 2] {
            let out = decode(&[&two_members[..cut], &two_members[cut..]]).unwrap();
            assert_eq!(out.len(), text.len() + 6, "cut at {cut}");
        }
        assert_eq!(decode(&[b"p", b"lain\n"]).unwrap(), b"plain\n");
        assert_eq!(decode(&[b"x"]).unwrap(), b"x");
    }

    #[test]
    fn corrupt_and_truncated_gzip_are_errors() {
        let mut corrupt = gzip(&b"hello world\n".repeat(100));
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        corrupt[middle + 1] ^= 0xff;
        assert!(decode(&[&corrupt]).is_err());
        let whole = gzip(b"hello\n");
        assert!(decode(&[&whole[..whole.len() - 4]]).is_err());
    }
}
