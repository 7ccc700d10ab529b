//! Bits of base64url text, as the GPP specification and the reference's
//! `CompressedBase64UrlEncoder` define them: each character is 6 bits, most
//! significant first; a segment is written padded with zero bits to a whole
//! number of bytes and then of characters (`pad(8)` then `pad(6)`).
//!
//! Invariants: a [`BitReader`] only reads text whose characters
//! [`check_base64`] accepted, and never reads past its end (it returns
//! `None`); a [`BitWriter`] appends characters to a caller's `String`, with
//! no allocation per bit. Fibonacci integers are Zeckendorf codes ending in
//! `11`, lowest Fibonacci number (1) first, as `FibonacciIntegerEncoder`.

use crate::GppError;

/// Base64url alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Character to 6-bit value; 0xFF for characters outside base64url.
#[allow(clippy::indexing_slicing)] // const evaluation: an index out of range fails the build
const DECODE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Fibonacci numbers as the reference uses them: 1, 2, 3, 5, 8, ...
#[allow(clippy::indexing_slicing)] // const evaluation: an index out of range fails the build
const FIB: [u64; 90] = {
    let mut f = [0u64; 90];
    f[0] = 1;
    f[1] = 2;
    let mut i = 2;
    while i < 90 {
        f[i] = f[i - 1] + f[i - 2];
        i += 1;
    }
    f
};

/// The 6-bit value of a base64url character; 0xFF for any other byte.
fn sextet(c: u8) -> u8 {
    DECODE.get(usize::from(c)).copied().unwrap_or(0xFF)
}

/// Checks that `s` is base64url; `offset` is its position in the whole
/// string, for the error.
pub(crate) fn check_base64(s: &str, section: &'static str, offset: usize) -> Result<(), GppError> {
    match s.bytes().position(|b| sextet(b) == 0xFF) {
        None => Ok(()),
        Some(i) => Err(GppError::InvalidCharacter {
            section,
            character: s[i..].chars().next().unwrap_or('?'),
            position: offset + s[..i].chars().count(),
        }),
    }
}

/// Reads bits from checked base64url text.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    text: &'a [u8],
    pos: usize,
    len: usize,
}

impl<'a> BitReader<'a> {
    /// Over text that [`check_base64`] accepted.
    pub(crate) fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        Self {
            text,
            pos: 0,
            len: text.len() * 6,
        }
    }

    /// Bit offset of the next read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bits left.
    pub(crate) fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// The next `n` (at most 64) bits as an unsigned integer, or `None` if
    /// fewer are left (nothing is consumed then).
    pub(crate) fn read(&mut self, n: u32) -> Option<u64> {
        let n_us = n as usize;
        if n > 64 || self.remaining() < n_us {
            return None;
        }
        let mut value = 0u64;
        let mut left = n;
        while left > 0 {
            let c = self.text.get(self.pos / 6).copied().unwrap_or(b'A');
            let sextet = u64::from(sextet(c) & 0x3F);
            let offset = (self.pos % 6) as u32;
            let take = (6 - offset).min(left);
            let chunk = (sextet >> (6 - offset - take)) & ((1u64 << take) - 1);
            value = (value << take) | chunk;
            left -= take;
            self.pos += take as usize;
        }
        Some(value)
    }

    /// One bit, or `None` at the end.
    pub(crate) fn bit(&mut self) -> Option<bool> {
        self.read(1).map(|b| b == 1)
    }
}

/// Why a Fibonacci integer could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FibError {
    /// The text ended before the terminating `11`.
    Truncated,
    /// The value does not fit in 64 bits.
    Overflow,
}

/// Reads one Fibonacci integer (at least 1).
pub(crate) fn read_fibonacci(r: &mut BitReader<'_>) -> Result<u64, FibError> {
    let mut value = 0u64;
    let mut prev = false;
    let mut i = 0usize;
    loop {
        let bit = r.bit().ok_or(FibError::Truncated)?;
        if bit && prev {
            return Ok(value);
        }
        if bit {
            let f = FIB.get(i).ok_or(FibError::Overflow)?;
            value = value.checked_add(*f).ok_or(FibError::Overflow)?;
        }
        prev = bit;
        i += 1;
    }
}

/// The index of the largest Fibonacci number not above `v` (`v` >= 1).
fn fib_top(v: u64) -> usize {
    FIB.iter().rposition(|&f| f <= v).unwrap_or(0)
}

/// Bits of the Fibonacci code of `v` (`v` >= 1), terminator included.
pub(crate) fn fibonacci_len(v: u64) -> usize {
    fib_top(v) + 2
}

/// Writes bits to base64url text.
#[derive(Debug)]
pub(crate) struct BitWriter<'a> {
    out: &'a mut String,
    acc: u8,
    nacc: u32,
    total: usize,
}

impl<'a> BitWriter<'a> {
    /// Appends to `out`.
    pub(crate) fn new(out: &'a mut String) -> Self {
        Self {
            out,
            acc: 0,
            nacc: 0,
            total: 0,
        }
    }

    /// One bit.
    pub(crate) fn bit(&mut self, b: bool) {
        self.acc = (self.acc << 1) | u8::from(b);
        self.nacc += 1;
        self.total += 1;
        if self.nacc == 6 {
            self.out.push(char::from(
                ALPHABET
                    .get(usize::from(self.acc & 0x3F))
                    .copied()
                    .unwrap_or(b'A'),
            ));
            self.acc = 0;
            self.nacc = 0;
        }
    }

    /// The low `n` bits of `value`, most significant first. The caller
    /// checks that the value fits.
    pub(crate) fn int(&mut self, value: u64, n: u32) {
        for i in (0..n).rev() {
            self.bit((value >> i) & 1 == 1);
        }
    }

    /// The Fibonacci code of `v` (`v` >= 1).
    pub(crate) fn fibonacci(&mut self, v: u64) {
        let top = fib_top(v);
        let mut code = 0u128;
        let mut rem = v;
        for i in (0..=top).rev() {
            let f = FIB.get(i).copied().unwrap_or(u64::MAX);
            if f <= rem {
                code |= 1 << i;
                rem -= f;
            }
        }
        for i in 0..=top {
            self.bit((code >> i) & 1 == 1);
        }
        self.bit(true);
    }

    /// Pads with zero bits to whole bytes and then whole characters, as
    /// `CompressedBase64UrlEncoder.pad`.
    pub(crate) fn finish(mut self) {
        let bytes = self.total.div_ceil(8) * 8;
        let chars = bytes.div_ceil(6) * 6;
        while self.total < chars {
            self.bit(false);
        }
    }
}

/// One reader for the fields of a segment, turning running out of bits
/// into errors that name the section, field and offset.
pub(crate) struct FieldReader<'a> {
    pub(crate) r: BitReader<'a>,
    pub(crate) section: &'static str,
    pub(crate) segment: usize,
}

impl<'a> FieldReader<'a> {
    /// Over checked text.
    pub(crate) fn new(text: &'a str, section: &'static str, segment: usize) -> Self {
        Self {
            r: BitReader::new(text),
            section,
            segment,
        }
    }

    /// The error for `field` needing `needed` bits at the current offset.
    pub(crate) fn truncated(&self, field: &'static str, needed: usize) -> GppError {
        GppError::Truncated {
            section: self.section,
            field,
            segment: self.segment,
            bit: self.r.pos(),
            needed,
            available: self.r.remaining(),
        }
    }

    /// An unsigned integer of `bits` bits.
    pub(crate) fn int(&mut self, field: &'static str, bits: u32) -> Result<u64, GppError> {
        self.r
            .read(bits)
            .ok_or_else(|| self.truncated(field, bits as usize))
    }

    /// One bit.
    pub(crate) fn boolean(&mut self, field: &'static str) -> Result<bool, GppError> {
        Ok(self.int(field, 1)? == 1)
    }

    /// A Fibonacci integer.
    pub(crate) fn fibonacci(&mut self, field: &'static str) -> Result<u64, GppError> {
        let start = self.r.pos();
        read_fibonacci(&mut self.r).map_err(|e| match e {
            FibError::Truncated => GppError::Truncated {
                section: self.section,
                field,
                segment: self.segment,
                bit: start,
                needed: self.r.pos() - start + 1,
                available: 0,
            },
            FibError::Overflow => GppError::InvalidFibonacci {
                section: self.section,
                field,
                segment: self.segment,
                bit: start,
                reason: "the value does not fit in 64 bits",
            },
        })
    }

    /// A Fibonacci-coded range list (`FibonacciIntegerRange`): a 12-bit
    /// count, then single ids or ranges, each coded as the distance from the
    /// previous one. `each(start, end)` gets the inclusive ranges in order;
    /// they are strictly increasing.
    pub(crate) fn fibonacci_ranges(
        &mut self,
        field: &'static str,
        mut each: impl FnMut(u64, u64, usize) -> Result<(), GppError>,
    ) -> Result<(), GppError> {
        let count = self.int(field, 12)?;
        let (section, segment) = (self.section, self.segment);
        let mut offset = 0u64;
        for _ in 0..count {
            let at = self.r.pos();
            let is_range = self.boolean(field)?;
            let overflow = || GppError::InvalidFibonacci {
                section,
                field,
                segment,
                bit: at,
                reason: "the id does not fit in 64 bits",
            };
            let start = self
                .fibonacci(field)?
                .checked_add(offset)
                .ok_or_else(overflow)?;
            let end = if is_range {
                self.fibonacci(field)?
                    .checked_add(start)
                    .ok_or_else(overflow)?
            } else {
                start
            };
            offset = end;
            each(start, end, at)?;
        }
        Ok(())
    }
}

/// Writes a sorted, duplicate-free id list as `FibonacciIntegerRange`.
pub(crate) fn write_fibonacci_ranges(w: &mut BitWriter<'_>, ids: &[u64]) {
    w.int(groups(ids).count() as u64, 12);
    let mut offset = 0u64;
    for (start, end) in groups(ids) {
        if start == end {
            w.bit(false);
            w.fibonacci(start - offset);
        } else {
            w.bit(true);
            w.fibonacci(start - offset);
            w.fibonacci(end - start);
        }
        offset = end;
    }
}

/// Bits [`write_fibonacci_ranges`] writes for `ids`.
pub(crate) fn fibonacci_ranges_len(ids: &[u64]) -> usize {
    let mut len = 12;
    let mut offset = 0u64;
    for (start, end) in groups(ids) {
        len += 1 + fibonacci_len(start - offset);
        if start != end {
            len += fibonacci_len(end - start);
        }
        offset = end;
    }
    len
}

/// Runs of consecutive ids in a sorted, duplicate-free list.
pub(crate) fn groups(ids: &[u64]) -> impl Iterator<Item = (u64, u64)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = *ids.get(i)?;
        let mut end = start;
        i += 1;
        while let Some(&next) = ids.get(i) {
            if next != end + 1 {
                break;
            }
            end = next;
            i += 1;
        }
        Some((start, end))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn bits_of(s: &str) -> String {
        let mut r = BitReader::new(s);
        let mut out = String::new();
        while let Some(b) = r.bit() {
            out.push(if b { '1' } else { '0' });
        }
        out
    }

    #[test]
    fn fibonacci_codes_match_the_reference() {
        // FibonacciIntegerEncoder: 1 = 11, 2 = 011, 3 = 0011, 4 = 1011, 5 = 00011, 12 = 101011.
        for (v, code) in [
            (1, "11"),
            (2, "011"),
            (3, "0011"),
            (4, "1011"),
            (5, "00011"),
            (12, "101011"),
        ] {
            let mut s = String::new();
            let mut w = BitWriter::new(&mut s);
            w.fibonacci(v);
            assert_eq!(fibonacci_len(v), code.len());
            w.finish();
            assert!(bits_of(&s).starts_with(code), "{v}: {}", bits_of(&s));
            let mut r = BitReader::new(&s);
            assert_eq!(read_fibonacci(&mut r), Ok(v));
        }
    }

    #[test]
    fn reader_reads_across_characters() {
        let mut r = BitReader::new("DBABMA");
        assert_eq!(r.read(6), Some(3));
        assert_eq!(r.read(6), Some(1));
        assert_eq!(r.read(12), Some(1));
        assert_eq!(r.read(13), None);
        assert_eq!(r.read(12), Some(0b001100000000));
    }

    #[test]
    fn writer_pads_to_bytes_then_characters() {
        let mut s = String::new();
        let mut w = BitWriter::new(&mut s);
        w.int(1, 3);
        w.finish();
        // 3 bits -> 8 -> 12: two characters.
        assert_eq!(s, "IA");
    }
}
