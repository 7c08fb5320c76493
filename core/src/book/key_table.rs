//! [`KeyTable`]: a hash table from a normalised code to its nodes in the code index, for exact
//! look-ups in one probe (`is_valid`, `lookup`), where the fst walk would touch a node per
//! character of the code (a cache miss each when the code is cold).
//!
//! A code is at most seven letters and digits, so it fits in 37 bits as a base-37 number
//! (0 for "no character"); a slot is one `u64`: that number, how many nodes carry the code
//! (3 bits) and where they are (24 bits: see [`super::index::CodeIndex`]). The table is
//! open-addressed with linear probing and at most 3/4 full: about 8 bytes per slot, 2 MiB for
//! the 190,000 codes of the default book, on one huge page where the system has them.

use super::memory::AlignedU64s;
use crate::code::base37;
use crate::error::{Error, Result};

const CODE_BITS: u32 = 37;
const COUNT_BITS: u32 = 3;
const START_BITS: u32 = 64 - CODE_BITS - COUNT_BITS;

/// Exact code to `(at, count)`: where its nodes are in the code index, and how many.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    /// On a huge page of its own (2 MiB for the default book), so that a cold probe does not
    /// also miss the TLB.
    slots: AlignedU64s,
    /// `64 - log2(slots.len())`: the hash's top bits pick the slot.
    shift: u32,
}

fn hash(code: u64, shift: u32) -> usize {
    // Fibonacci hashing: the top bits of the product are well mixed.
    (code.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl KeyTable {
    /// An empty table with room for `n` codes; an error when that is more than memory holds.
    pub fn with_capacity(n: usize) -> Result<KeyTable> {
        let too_many = || Error::Book(format!("code index: {n} codes are too many"));
        let capacity = n.checked_mul(4).map(|n| n / 3 + 1).and_then(usize::checked_next_power_of_two).ok_or_else(too_many)?.max(8);
        Ok(KeyTable { slots: AlignedU64s::zeroed(capacity).ok_or_else(too_many)?, shift: 64 - capacity.trailing_zeros() })
    }

    /// Adds `key` with its `(at, count)`; a count of 0 is for an `at` that is a value of its
    /// own rather than a place. Errors for a key that is not a code, numbers that do not fit,
    /// a key already added, or more keys than the capacity.
    pub fn insert(&mut self, key: &[u8], start: usize, count: usize) -> Result<()> {
        let bad = |what: &str| Error::Book(format!("code index: {what} for code {:?}", String::from_utf8_lossy(key)));
        let code = base37(key).ok_or_else(|| bad("not a code"))?;
        if count >= 1 << COUNT_BITS || start >= 1 << START_BITS {
            return Err(bad("run out of range"));
        }
        let mask = self.slots.len() - 1;
        let mut i = hash(code, self.shift);
        for _ in 0..self.slots.len() {
            if self.slots[i] == 0 {
                self.slots[i] = (code << (64 - CODE_BITS)) | ((count as u64) << START_BITS) | start as u64;
                return Ok(());
            }
            if self.slots[i] >> (64 - CODE_BITS) == code {
                return Err(bad("repeated"));
            }
            i = (i + 1) & mask;
        }
        Err(bad("table full"))
    }

    /// Backs the slots with huge pages (see [`super::memory::prefer_huge_pages`]).
    pub fn prefer_huge_pages(&self) {
        super::memory::prefer_huge_pages(&self.slots);
    }

    /// The `(at, count)` of a key packed by [`crate::code::base37`], if the table has it.
    pub fn get_packed(&self, code: u64) -> Option<(usize, usize)> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = hash(code, self.shift);
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            if slot >> (64 - CODE_BITS) == code {
                let count = (slot >> START_BITS) & ((1 << COUNT_BITS) - 1);
                return Some(((slot & ((1 << START_BITS) - 1)) as usize, count as usize));
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl KeyTable {
        fn get(&self, key: &[u8]) -> Option<(usize, usize)> {
            self.get_packed(base37(key)?)
        }
    }

    #[test]
    fn finds_exactly_the_codes_it_holds() {
        let codes = ["E11", "E119", "E1", "A00", "ZZZZZZZ", "0000000", "0", "J1100", "S72001A"];
        let mut table = KeyTable::with_capacity(codes.len()).unwrap();
        for (i, c) in codes.iter().enumerate() {
            table.insert(c.as_bytes(), i * 3, i % 8).unwrap();
        }
        for (i, c) in codes.iter().enumerate() {
            assert_eq!(table.get(c.as_bytes()), Some((i * 3, i % 8)), "{c}");
        }
        for absent in ["E1190", "E11 ", "e119", "", "E11.9", "12345678", "00", "A0", "ZZZZZZ"] {
            assert_eq!(table.get(absent.as_bytes()), None, "{absent:?}");
        }
        assert_eq!(KeyTable::default().get(b"E11"), None);
    }

    #[test]
    fn codes_of_different_lengths_never_collide() {
        // "0" is digit 1; "00" must not equal "0" left-aligned.
        assert_ne!(base37(b"0"), base37(b"00"));
        assert_ne!(base37(b"A"), base37(b"A0"));
        assert!(base37(b"ZZZZZZZ").unwrap() < 1 << CODE_BITS);
    }

    #[test]
    fn rejects_what_it_cannot_hold() {
        let one = |key: &str, start: usize, count: usize| KeyTable::with_capacity(1).unwrap().insert(key.as_bytes(), start, count);
        assert!(one("e11", 0, 1).is_err());
        assert!(one("E11", 0, 0).is_ok());
        assert!(one("E11", 0, 8).is_err());
        assert!(one("E11", 1 << START_BITS, 1).is_err());
        let mut t = KeyTable::with_capacity(1).unwrap();
        t.insert(b"E11", 0, 1).unwrap();
        assert!(t.insert(b"E11", 1, 1).is_err(), "repeated");
        let mut full = KeyTable::with_capacity(1).unwrap();
        assert_eq!(full.slots.len(), 8);
        for i in 0..8 {
            full.insert(format!("A{i}").as_bytes(), i, 1).unwrap();
        }
        assert!(full.insert(b"B0", 0, 1).is_err(), "full");
    }
}
