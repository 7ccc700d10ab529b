//! Bit-level reading and writing, and the base64url alphabet of TC strings.
//!
//! Written here rather than taken from the `base64` crate because the TC
//! string is a bit stream, not a byte stream: a segment may end mid-byte and
//! have any length (the reference library accepts lengths a byte-oriented
//! decoder rejects), and a decode error must name the exact character.

use crate::error::{DecodeError, Position, Segment};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const INVALID: u8 = 0xFF;

/// Maps each byte to its 6-bit value, or `INVALID`.
// Indexes are below 64 and 256 by construction; const code cannot use `get`.
#[allow(clippy::indexing_slicing)]
static DECODE_TABLE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Zero bytes kept after the data so a reader can always load 8 bytes at once.
const TAIL: usize = 8;

/// Decodes one segment's characters into `out` (cleared first), 6 bits per
/// character, most significant bit first. Returns the number of data bits.
///
/// `start` is the segment's character offset in the whole string, for errors.
pub(crate) fn decode_base64url(
    segment: &str,
    start: usize,
    out: &mut Vec<u8>,
) -> Result<usize, DecodeError> {
    out.clear();
    out.reserve(segment.len() * 3 / 4 + 1 + TAIL);
    let bytes = segment.as_bytes();
    let mut quads = bytes.chunks_exact(4);
    // Four characters make three bytes; the common path does no bit juggling.
    for (q, quad) in (&mut quads).enumerate() {
        let &[a, b, c, d] = quad else { continue };
        let [a, b, c, d] = [lookup(a), lookup(b), lookup(c), lookup(d)];
        // Valid values fit in 6 bits; INVALID has the top bits set.
        if (a | b | c | d) & 0xC0 != 0 {
            let bad = quad
                .iter()
                .position(|&ch| lookup(ch) == INVALID)
                .unwrap_or(0);
            return Err(invalid_character(segment, start, q * 4 + bad));
        }
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let done = bytes.len() - quads.remainder().len();
    let mut acc: u32 = 0;
    let mut pending: u32 = 0;
    for (i, &byte) in quads.remainder().iter().enumerate() {
        let value = lookup(byte);
        if value == INVALID {
            return Err(invalid_character(segment, start, done + i));
        }
        acc = (acc << 6) | u32::from(value);
        pending += 6;
        if pending >= 8 {
            pending -= 8;
            out.push((acc >> pending) as u8);
        }
    }
    if pending > 0 {
        out.push((acc << (8 - pending)) as u8);
    }
    out.extend_from_slice(&[0; TAIL]);
    Ok(segment.len() * 6)
}

/// The 6-bit value of a base64url character, or `INVALID`.
fn lookup(byte: u8) -> u8 {
    // A u8 always indexes a 256-entry table.
    #[allow(clippy::indexing_slicing)]
    DECODE_TABLE[byte as usize]
}

fn invalid_character(segment: &str, start: usize, byte_index: usize) -> DecodeError {
    // Every byte before `byte_index` was ASCII, so byte and char positions agree.
    let character = segment
        .get(byte_index..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('\u{FFFD}');
    DecodeError::InvalidCharacter {
        character,
        position: start + byte_index,
    }
}

/// Appends the base64url encoding (no padding) of `bytes` to `out`.
pub(crate) fn encode_base64url(bytes: &[u8], out: &mut String) {
    let mut chunks = bytes.chunks_exact(3);
    for chunk in &mut chunks {
        if let [a, b, c] = *chunk {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
            push_chars(n, 4, out);
        }
    }
    match *chunks.remainder() {
        [a] => push_chars(u32::from(a) << 16, 2, out),
        [a, b] => push_chars((u32::from(a) << 16) | (u32::from(b) << 8), 3, out),
        _ => {}
    }
}

/// Pushes the first `count` 6-bit groups of the 24-bit value `n`.
fn push_chars(n: u32, count: u32, out: &mut String) {
    for i in 0..count {
        let index = (n >> (18 - 6 * i)) & 0x3F;
        // Masked to 6 bits, so always below 64.
        #[allow(clippy::indexing_slicing)]
        out.push(char::from(ALPHABET[index as usize]));
    }
}

/// Reads fields from a decoded segment, tracking the bit offset for errors.
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    len: usize,
    pos: usize,
    segment: Segment,
}

impl<'a> BitReader<'a> {
    /// `bytes` must come from [`decode_base64url`] (it relies on the zero tail).
    pub(crate) fn new(bytes: &'a [u8], len: usize, segment: Segment) -> Self {
        Self {
            bytes,
            len,
            pos: 0,
            segment,
        }
    }

    /// Names the segment once its type is known.
    pub(crate) fn set_segment(&mut self, segment: Segment) {
        self.segment = segment;
    }

    /// The position of the next bit, for error reports.
    pub(crate) fn position(&self) -> Position {
        Position {
            segment: self.segment,
            bit: self.pos,
        }
    }

    /// Reads `n` bits (at most 56) as an unsigned number.
    pub(crate) fn read(&mut self, n: u32, field: &'static str) -> Result<u64, DecodeError> {
        debug_assert!(n <= 56);
        let needed = n as usize;
        if self.pos + needed > self.len {
            return Err(DecodeError::Truncated {
                field,
                at: self.position(),
                needed,
                available: self.len - self.pos,
            });
        }
        let byte = self.pos / 8;
        let window = self
            .bytes
            .get(byte..byte + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .ok_or(DecodeError::Truncated {
                field,
                at: self.position(),
                needed,
                available: self.len - self.pos,
            })?;
        let shifted = u64::from_be_bytes(window) << (self.pos % 8);
        self.pos += needed;
        Ok(if n == 0 { 0 } else { shifted >> (64 - n) })
    }

    /// Reads one bit.
    pub(crate) fn read_bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.read(1, field)? == 1)
    }

    /// Reads `n` bits (at most 64) where the first bit read is id 1, returning
    /// them with id 1 at bit 0.
    pub(crate) fn read_lsb_first(
        &mut self,
        n: u32,
        field: &'static str,
    ) -> Result<u64, DecodeError> {
        let value = if n > 32 {
            let hi = self.read(32, field)?;
            let lo = self.read(n - 32, field)?;
            (hi << (n - 32)) | lo
        } else {
            self.read(n, field)?
        };
        Ok(if n == 0 {
            0
        } else {
            value.reverse_bits() >> (64 - n)
        })
    }
}

/// Writes fields most significant bit first, then pads to a byte.
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl BitWriter {
    /// A writer with room for about `bits` bits.
    pub(crate) fn with_capacity(bits: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bits / 8 + 1),
            acc: 0,
            pending: 0,
        }
    }

    /// Writes the low `n` bits (at most 32) of `value`.
    pub(crate) fn write(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 32);
        if n == 0 {
            return;
        }
        self.acc = (self.acc << n) | (value & ((1u64 << n) - 1));
        self.pending += n;
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
    }

    /// Writes one bit.
    pub(crate) fn write_bool(&mut self, bit: bool) {
        self.write(u64::from(bit), 1);
    }

    /// Writes `n` bits (at most 64) of `value` with bit 0 (id 1) first.
    pub(crate) fn write_lsb_first(&mut self, value: u64, n: u32) {
        if n == 0 {
            return;
        }
        let msb = value.reverse_bits() >> (64 - n);
        if n > 32 {
            self.write(msb >> 32, n - 32);
            self.write(msb & 0xFFFF_FFFF, 32);
        } else {
            self.write(msb, n);
        }
    }

    /// Pads to a byte boundary and appends the base64url text to `out`.
    pub(crate) fn finish_into(mut self, out: &mut String) {
        if self.pending > 0 {
            self.bytes.push((self.acc << (8 - self.pending)) as u8);
        }
        encode_base64url(&self.bytes, out);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writer_and_reader_agree() {
        let mut w = BitWriter::default();
        w.write(2, 6);
        w.write(0x1_2345_6789 & 0xFFFF_FFFF, 32);
        w.write_bool(true);
        w.write_lsb_first(0b1011, 40);
        let mut s = String::new();
        w.finish_into(&mut s);
        let mut buf = Vec::new();
        let len = decode_base64url(&s, 0, &mut buf).unwrap();
        let mut r = BitReader::new(&buf, len, Segment::Core);
        assert_eq!(r.read(6, "a").unwrap(), 2);
        assert_eq!(r.read(32, "b").unwrap(), 0x2345_6789);
        assert!(r.read_bool("c").unwrap());
        assert_eq!(r.read_lsb_first(40, "d").unwrap(), 0b1011);
    }

    #[test]
    fn base64url_matches_rfc4648_without_padding() {
        let mut s = String::new();
        encode_base64url(b"\xfb\xff", &mut s);
        assert_eq!(s, "-_8");
        let mut t = String::new();
        encode_base64url(b"foobar", &mut t);
        assert_eq!(t, "Zm9vYmFy");
    }

    #[test]
    fn rejects_padding_and_names_position() {
        let mut buf = Vec::new();
        let err = decode_base64url("AB=", 10, &mut buf).unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidCharacter {
                character: '=',
                position: 12
            }
        );
        let err = decode_base64url("Aé", 0, &mut buf).unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidCharacter {
                character: 'é',
                position: 1
            }
        );
    }

    #[test]
    fn truncation_reports_field_and_offset() {
        let mut buf = Vec::new();
        let len = decode_base64url("AA", 0, &mut buf).unwrap();
        let mut r = BitReader::new(&buf, len, Segment::Core);
        r.read(8, "x").unwrap();
        let err = r.read(6, "Version").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                field: "Version",
                at: Position {
                    segment: Segment::Core,
                    bit: 8
                },
                needed: 6,
                available: 4
            }
        );
    }
}
