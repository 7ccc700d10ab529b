//! Compact sets of the small integer ids the TCF signals: purposes, special
//! features, custom purposes and vendors.
//!
//! Both types store one bit per id, so a dense vendor section of 700 vendors
//! costs 88 bytes and no allocation per vendor.

use std::fmt;

/// An id was outside the range a set can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("id {id} is out of range 1..={max}")]
pub struct IdOutOfRange {
    /// The rejected id.
    pub id: u32,
    /// The largest id the set can hold.
    pub max: u32,
}

/// A set of ids in `1..=N` (N at most 64), stored as one `u64`.
///
/// Used for purposes (N = 24), special features (N = 12) and custom
/// purposes (N = 63). Bit `id - 1` is set when `id` is in the set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IdSet<const N: u32> {
    bits: u64,
}

impl<const N: u32> IdSet<N> {
    /// The largest id this set can hold.
    pub const MAX: u32 = N;

    /// An empty set.
    pub const fn new() -> Self {
        Self { bits: 0 }
    }

    /// Builds a set from the spec's bit order: the first of `width` bits is id 1.
    pub(crate) fn from_msb_bits(value: u64, width: u32) -> Self {
        debug_assert!(width <= N && width <= 64);
        if width == 0 {
            return Self::new();
        }
        let bits = value.reverse_bits() >> (64 - width);
        Self { bits }
    }

    /// Builds a set from bits where bit 0 is id 1; bits past `N` are dropped.
    pub(crate) fn from_lsb_bits(bits: u64) -> Self {
        Self {
            bits: bits & mask(N),
        }
    }

    /// The bits, id 1 at bit 0.
    pub(crate) fn lsb_bits(self) -> u64 {
        self.bits
    }

    /// The set as `width` bits in the spec's order (id 1 is the most significant).
    pub(crate) fn to_msb_bits(self, width: u32) -> u64 {
        if width == 0 {
            return 0;
        }
        let masked = self.bits & mask(width);
        masked.reverse_bits() >> (64 - width)
    }

    /// Adds `id`, or says why it cannot be held.
    pub fn insert(&mut self, id: u32) -> Result<(), IdOutOfRange> {
        if id == 0 || id > N {
            return Err(IdOutOfRange { id, max: N });
        }
        self.bits |= 1 << (id - 1);
        Ok(())
    }

    /// Removes `id` if present.
    pub fn remove(&mut self, id: u32) {
        if (1..=N).contains(&id) {
            self.bits &= !(1 << (id - 1));
        }
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        (1..=N).contains(&id) && self.bits & (1 << (id - 1)) != 0
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// The largest id in the set, or 0 when empty.
    pub fn max_id(&self) -> u32 {
        64 - self.bits.leading_zeros()
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + Clone + '_ {
        BitIter::new(self.bits, 0)
    }
}

impl<const N: u32> fmt::Debug for IdSet<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<const N: u32> TryFrom<&[u32]> for IdSet<N> {
    type Error = IdOutOfRange;
    fn try_from(ids: &[u32]) -> Result<Self, Self::Error> {
        let mut set = Self::new();
        for &id in ids {
            set.insert(id)?;
        }
        Ok(set)
    }
}

fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Largest vendor id a TC string can carry (16-bit fields).
pub const MAX_VENDOR_ID: u32 = u16::MAX as u32;

/// A set of vendor ids in `1..=65535`, one bit per id.
///
/// Bit `id - 1` lives in word `(id - 1) / 64` at position `(id - 1) % 64`.
/// The word vector never has trailing zero words, so equality is structural.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct VendorSet {
    words: Vec<u64>,
}

impl VendorSet {
    /// An empty set.
    pub const fn new() -> Self {
        Self { words: Vec::new() }
    }

    /// An empty set with room for ids up to `max_id` without reallocating.
    pub fn with_max_id(max_id: u32) -> Self {
        Self {
            words: Vec::with_capacity(max_id.div_ceil(64) as usize),
        }
    }

    /// Adds `id`, or says why it cannot be held.
    pub fn insert(&mut self, id: u32) -> Result<(), IdOutOfRange> {
        if id == 0 || id > MAX_VENDOR_ID {
            return Err(IdOutOfRange {
                id,
                max: MAX_VENDOR_ID,
            });
        }
        let (word, bit) = Self::slot(id);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if let Some(w) = self.words.get_mut(word) {
            *w |= 1 << bit;
        }
        Ok(())
    }

    /// Adds every id of `start..=end`; both ends must be valid ids.
    pub fn insert_range(&mut self, start: u32, end: u32) -> Result<(), IdOutOfRange> {
        if start == 0 || start > MAX_VENDOR_ID {
            return Err(IdOutOfRange {
                id: start,
                max: MAX_VENDOR_ID,
            });
        }
        if end > MAX_VENDOR_ID {
            return Err(IdOutOfRange {
                id: end,
                max: MAX_VENDOR_ID,
            });
        }
        if end < start {
            return Ok(());
        }
        let (last_word, _) = Self::slot(end);
        if self.words.len() <= last_word {
            self.words.resize(last_word + 1, 0);
        }
        // Whole words at a time: a range of 600 vendors is ten word writes.
        let mut id = start;
        while id <= end {
            let (word, bit) = Self::slot(id);
            let span = (64 - bit).min(end - id + 1);
            let bits = if span == 64 {
                u64::MAX
            } else {
                ((1u64 << span) - 1) << bit
            };
            if let Some(w) = self.words.get_mut(word) {
                *w |= bits;
            }
            id += span;
        }
        Ok(())
    }

    /// Removes `id` if present.
    pub fn remove(&mut self, id: u32) {
        if id == 0 {
            return;
        }
        let (word, bit) = Self::slot(id);
        if let Some(w) = self.words.get_mut(word) {
            *w &= !(1 << bit);
        }
        self.trim();
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        if id == 0 {
            return false;
        }
        let (word, bit) = Self::slot(id);
        self.words.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The largest id in the set, or 0 when empty.
    pub fn max_id(&self) -> u32 {
        match self.words.last() {
            Some(&w) => (self.words.len() as u32 - 1) * 64 + (64 - w.leading_zeros()),
            None => 0,
        }
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + Clone + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(i, &w)| BitIter::new(w, i as u32 * 64))
    }

    /// Maximal runs of consecutive ids, as inclusive `(start, end)` pairs.
    pub fn ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        RangeIter {
            ids: self.iter(),
            pending: None,
        }
    }

    /// Ids present in `self` but not in `other`.
    pub fn difference<'a>(&'a self, other: &'a VendorSet) -> impl Iterator<Item = u32> + 'a {
        self.iter().filter(move |&id| !other.contains(id))
    }

    /// Sets the 64 ids starting at `64 * index + 1` from one word; used by the
    /// bit-field decoder, which reads 64 vendors at a time.
    pub(crate) fn push_word(&mut self, word: u64) {
        self.words.push(word);
    }

    /// Drops trailing zero words so that equal sets compare equal.
    pub(crate) fn trim(&mut self) {
        while self.words.last() == Some(&0) {
            self.words.pop();
        }
    }

    /// The raw words, id 1 at bit 0 of word 0.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    fn slot(id: u32) -> (usize, u32) {
        (((id - 1) / 64) as usize, (id - 1) % 64)
    }
}

impl fmt::Debug for VendorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl TryFrom<&[u32]> for VendorSet {
    type Error = IdOutOfRange;
    fn try_from(ids: &[u32]) -> Result<Self, Self::Error> {
        let mut set = Self::new();
        for &id in ids {
            set.insert(id)?;
        }
        Ok(set)
    }
}

impl FromIterator<u16> for VendorSet {
    fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> Self {
        let mut set = Self::new();
        for id in iter {
            // u16 ids other than 0 always fit; 0 is not a vendor and is skipped.
            let _ = set.insert(u32::from(id));
        }
        set
    }
}

/// Iterates the set bits of one word, yielding `base + bit + 1`.
#[derive(Clone)]
struct BitIter {
    word: u64,
    base: u32,
}

impl BitIter {
    fn new(word: u64, base: u32) -> Self {
        Self { word, base }
    }
}

impl Iterator for BitIter {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.word == 0 {
            return None;
        }
        let bit = self.word.trailing_zeros();
        self.word &= self.word - 1;
        Some(self.base + bit + 1)
    }
}

struct RangeIter<I> {
    ids: I,
    pending: Option<(u32, u32)>,
}

impl<I: Iterator<Item = u32>> Iterator for RangeIter<I> {
    type Item = (u32, u32);
    fn next(&mut self) -> Option<(u32, u32)> {
        loop {
            match (self.ids.next(), self.pending) {
                (Some(id), None) => self.pending = Some((id, id)),
                (Some(id), Some((s, e))) if id == e + 1 => self.pending = Some((s, id)),
                (Some(id), Some(run)) => {
                    self.pending = Some((id, id));
                    return Some(run);
                }
                (None, run) => {
                    self.pending = None;
                    return run;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idset_rejects_zero_and_past_capacity() {
        let mut s = IdSet::<24>::new();
        assert_eq!(s.insert(0), Err(IdOutOfRange { id: 0, max: 24 }));
        assert_eq!(s.insert(25), Err(IdOutOfRange { id: 25, max: 24 }));
        s.insert(24).unwrap();
        s.insert(1).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 24]);
        assert_eq!(s.max_id(), 24);
    }

    #[test]
    fn idset_msb_round_trip() {
        // 24 bits where the first bit is purpose 1: 1000 0000 ... 0001
        let value = (1u64 << 23) | 1;
        let s = IdSet::<24>::from_msb_bits(value, 24);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 24]);
        assert_eq!(s.to_msb_bits(24), value);
    }

    #[test]
    fn vendor_set_ranges_and_trim() {
        let mut s = VendorSet::new();
        s.insert_range(3, 130).unwrap();
        s.insert(200).unwrap();
        assert_eq!(s.len(), 129);
        assert_eq!(s.max_id(), 200);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(3, 130), (200, 200)]);
        s.remove(200);
        assert_eq!(s.max_id(), 130);
        let mut t = VendorSet::new();
        t.insert_range(3, 130).unwrap();
        assert_eq!(s, t);
    }

    #[test]
    fn vendor_set_rejects_zero() {
        assert!(VendorSet::new().insert(0).is_err());
        assert!(VendorSet::new().insert_range(0, 4).is_err());
        assert!(VendorSet::new().insert(65536).is_err());
    }
}
