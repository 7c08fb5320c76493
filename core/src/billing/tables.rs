//! The NCCI edit tables in memory, compact: every code interned once (a sorted list of keys, a
//! code's id is its index), rationales interned, and the PTP edits grouped by column 1 code
//! (compressed sparse rows), each edit one `u32`, with a parallel `u32` of dates only when the
//! source files had dates. About 4 bytes per PTP edit, 12 per MUE.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;

use crate::code::Key;
use crate::error::{Error, Result};

/// Bits of a packed PTP edit: column 2 code id in the high 20 bits, then the modifier indicator
/// (2 bits: 0, 1, or 2 for 9), then the rationale id (10 bits).
const RATIONALE_BITS: u32 = 10;
const INDICATOR_SHIFT: u32 = RATIONALE_BITS;
const CODE_SHIFT: u32 = RATIONALE_BITS + 2;
/// The most distinct codes and rationales the packing can hold.
pub(crate) const MAX_CODES: usize = 1 << (32 - CODE_SHIFT);
pub(crate) const MAX_RATIONALES: usize = 1 << RATIONALE_BITS;

/// One PTP edit, unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PtpEntry {
    pub column2: u32,
    pub modifier_indicator: u8,
    pub rationale: u32,
    pub effective: Option<NaiveDate>,
    pub deleted: Option<NaiveDate>,
}

/// One MUE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MueEntry {
    pub code: u32,
    pub mue_value: u32,
    pub adjudication_indicator: u8,
    pub rationale: u16,
}

/// The PTP edits as compressed sparse rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ptp {
    /// Empty, or `codes.len() + 1` offsets: the edits of column 1 code `c` are
    /// `edits[start[c] .. start[c + 1]]`, sorted by column 2 then date.
    start: Vec<u32>,
    /// Packed edits (see `CODE_SHIFT`).
    edits: Vec<u32>,
    /// Empty when the sources had no dates; else one per edit: effective and deletion dates,
    /// each as days since 1970-01-01 plus one in 16 bits (0: none).
    dates: Vec<u32>,
}

/// The PTP and MUE tables.
///
/// The PTP edits (8.6 MB for the 2.1 million edits of the default book) are only needed by
/// claim checks, which many hosts never make: once a book is read, [`NcciTables::pack`] keeps
/// them zstd-compressed (about a quarter of the size), and the first call that needs them
/// decompresses them (a few milliseconds, once per book).
#[derive(Default)]
pub(crate) struct NcciTables {
    /// Every code of either table, sorted; a code's id is its index.
    codes: Vec<Key>,
    /// Open-addressing hash index of `codes`: `id + 1` per slot, 0 empty; a power of two at
    /// least twice the number of codes, so a look-up is one or two probes.
    slots: Vec<u32>,
    /// The PTP edits, once unpacked (or since the tables were built).
    ptp: OnceLock<std::result::Result<Ptp, String>>,
    /// The PTP edits compressed by [`NcciTables::pack`], until first needed.
    packed: Option<Box<[u8]>>,
    ptp_len: usize,
    dated: bool,
    rationales: Vec<Arc<str>>,
    /// Sorted by code id.
    mue: Vec<MueEntry>,
    /// For each code id, the index of its MUE in `mue` (`u32::MAX`: none).
    mue_index: Vec<u32>,
}

impl fmt::Debug for NcciTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NcciTables")
            .field("codes", &self.codes.len())
            .field("ptp_edits", &self.ptp_len)
            .field("dated", &self.is_dated())
            .field("rationales", &self.rationales.len())
            .field("mue", &self.mue.len())
            .finish()
    }
}

impl NcciTables {
    /// Whether the book has any NCCI data.
    pub fn is_empty(&self) -> bool {
        self.ptp_len == 0 && self.mue.is_empty()
    }

    /// Whether the PTP edits carry effective and deletion dates.
    pub fn is_dated(&self) -> bool {
        self.dated
    }

    pub fn ptp_len(&self) -> usize {
        self.ptp_len
    }

    /// The PTP edits, decompressed on first use when the tables are packed.
    pub fn ptp(&self) -> Result<&Ptp> {
        let ptp = self.ptp.get_or_init(|| match &self.packed {
            Some(packed) => Ptp::unpack(packed, self.codes.len() + 1, self.ptp_len, self.dated),
            None => Ok(Ptp::default()),
        });
        ptp.as_ref().map_err(|e| Error::Book(format!("NCCI edit tables: {e}")))
    }

    /// Compresses the PTP edits until a check needs them (see the type's documentation).
    pub fn pack(&mut self) -> Result<()> {
        if self.packed.is_some() || self.ptp_len == 0 {
            return Ok(());
        }
        let Some(Ok(ptp)) = self.ptp.take() else { return Ok(()) };
        let words = ptp.start.iter().chain(&ptp.edits).chain(&ptp.dates);
        let bytes: Vec<u8> = std::iter::once(ptp.start.len() as u32).chain(words.copied()).flat_map(u32::to_le_bytes).collect();
        let packed = zstd::bulk::compress(&bytes, 1).map_err(|e| Error::Book(format!("compressing the NCCI edits: {e}")))?;
        self.packed = Some(packed.into_boxed_slice());
        Ok(())
    }

    pub fn mue_len(&self) -> usize {
        self.mue.len()
    }

    /// The id of a code, if either table has it. Cost: one or two hash probes.
    pub fn code_id(&self, key: &Key) -> Option<u32> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = slot_of(key, mask);
        loop {
            let id = self.slots[at].checked_sub(1)?;
            if self.codes.get(id as usize) == Some(key) {
                return Some(id);
            }
            at = (at + 1) & mask;
        }
    }

    pub fn code(&self, id: u32) -> &Key {
        &self.codes[id as usize]
    }

    /// The rationale text `id` (shared: cloning it does not copy the text).
    pub fn rationale(&self, id: u32) -> Arc<str> {
        self.rationales.get(id as usize).cloned().unwrap_or_else(|| Arc::from(""))
    }

    pub fn mue(&self, code: u32) -> Option<&MueEntry> {
        self.mue_index.get(code as usize).and_then(|&i| self.mue.get(i as usize))
    }

    /// Bytes of heap the tables hold now (capacity, not just length): the PTP edits count
    /// compressed until they have been unpacked.
    pub fn heap_bytes(&self) -> usize {
        let ptp = match self.ptp.get() {
            Some(Ok(p)) => (p.start.capacity() + p.edits.capacity() + p.dates.capacity()) * 4,
            _ => 0,
        };
        self.codes.capacity() * size_of::<Key>()
            + self.slots.capacity() * 4
            + self.mue_index.capacity() * 4
            + ptp
            + self.packed.as_ref().map_or(0, |p| p.len())
            + self.rationales.capacity() * size_of::<Arc<str>>()
            + self.rationales.iter().map(|r| r.len()).sum::<usize>()
            + self.mue.capacity() * size_of::<MueEntry>()
    }

    // ----- stored form (see book/billing_store.rs) -----

    pub fn codes(&self) -> &[Key] {
        &self.codes
    }

    pub fn rationales(&self) -> &[Arc<str>] {
        &self.rationales
    }

    pub fn mue_entries(&self) -> &[MueEntry] {
        &self.mue
    }

    /// Restores the tables from their stored parts, checking every id and the sort order so
    /// that a corrupt book gives an error, never a wrong answer or a panic.
    pub fn from_parts(
        codes: Vec<Key>,
        rationales: Vec<Arc<str>>,
        groups: Vec<(u32, u32)>,
        ptp: Vec<u32>,
        ptp_dates: Vec<u32>,
        mue: Vec<MueEntry>,
    ) -> Result<NcciTables> {
        let bad = |what: String| Error::Book(format!("corrupt code book: NCCI tables: {what}"));
        if codes.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("codes are not sorted".into()));
        }
        if codes.len() > MAX_CODES || rationales.len() > MAX_RATIONALES || ptp.len() > u32::MAX as usize {
            return Err(bad("too many codes, rationales or edits".into()));
        }
        if groups.iter().map(|g| u64::from(g.1)).sum::<u64>() != ptp.len() as u64 {
            return Err(bad("the edit counts do not add up".into()));
        }
        if !ptp_dates.is_empty() && ptp_dates.len() != ptp.len() {
            return Err(bad("the dates do not match the edits".into()));
        }
        let n = codes.len() as u32;
        let mut ptp_start = Vec::new();
        if !groups.is_empty() {
            ptp_start.reserve(codes.len() + 1);
            let (mut next, mut at) = (0u32, 0usize);
            for (column1, count) in groups {
                if column1 >= n || column1 < next || count == 0 {
                    return Err(bad(format!("column 1 id {column1} out of order or range, or without edits")));
                }
                while next <= column1 {
                    ptp_start.push(at as u32);
                    next += 1;
                }
                let edits = &ptp[at..at + count as usize];
                if edits.windows(2).any(|w| w[0] >> CODE_SHIFT > w[1] >> CODE_SHIFT) {
                    return Err(bad(format!("edits of column 1 id {column1} are not sorted")));
                }
                if edits.iter().any(|&e| {
                    e >> CODE_SHIFT >= n
                        || (e >> INDICATOR_SHIFT) & 3 == 3
                        || (e & ((1 << RATIONALE_BITS) - 1)) as usize >= rationales.len()
                }) {
                    return Err(bad(format!("an edit of column 1 id {column1} points past the tables")));
                }
                at += count as usize;
            }
            while next <= n {
                ptp_start.push(at as u32);
                next += 1;
            }
        }
        if mue.windows(2).any(|w| w[0].code >= w[1].code) {
            return Err(bad("MUEs are not sorted".into()));
        }
        if mue.iter().any(|m| m.code >= n || m.rationale as usize >= rationales.len() || !(1..=3).contains(&m.adjudication_indicator)) {
            return Err(bad("an MUE points past the tables".into()));
        }
        let (mut ptp, mut ptp_dates) = (ptp, ptp_dates);
        ptp.shrink_to_fit();
        ptp_dates.shrink_to_fit();
        let (ptp_len, dated) = (ptp.len(), !ptp_dates.is_empty());
        let ptp = OnceLock::from(Ok(Ptp { start: ptp_start, edits: ptp, dates: ptp_dates }));
        let mut slots = vec![0u32; if codes.is_empty() { 0 } else { (codes.len() * 2).next_power_of_two() }];
        let mask = slots.len().wrapping_sub(1);
        for (id, key) in codes.iter().enumerate() {
            let mut at = slot_of(key, mask);
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = id as u32 + 1;
        }
        let mut mue_index = vec![u32::MAX; if mue.is_empty() { 0 } else { codes.len() }];
        for (i, m) in mue.iter().enumerate() {
            mue_index[m.code as usize] = i as u32;
        }
        Ok(NcciTables { codes, slots, ptp, packed: None, ptp_len, dated, rationales, mue, mue_index })
    }
}

impl PartialEq for NcciTables {
    /// Equal content, packed or not.
    fn eq(&self, other: &Self) -> bool {
        (&self.codes, &self.rationales, &self.mue, self.ptp_len, self.dated)
            == (&other.codes, &other.rationales, &other.mue, other.ptp_len, other.dated)
            && self.ptp().ok() == other.ptp().ok()
    }
}

impl Ptp {
    /// Reverses [`NcciTables::pack`], checking the sizes.
    fn unpack(packed: &[u8], starts: usize, len: usize, dated: bool) -> std::result::Result<Ptp, String> {
        let words = 1 + starts + len * (1 + usize::from(dated));
        let bytes = zstd::bulk::decompress(packed, words * 4).map_err(|e| e.to_string())?;
        let mut words = bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        if words.next() != Some(starts as u32) {
            return Err("the compressed edits do not have the expected size".into());
        }
        let start: Vec<u32> = words.by_ref().take(starts).collect();
        let edits: Vec<u32> = words.by_ref().take(len).collect();
        let dates: Vec<u32> = words.collect();
        if start.len() != starts || edits.len() != len || dates.len() != if dated { len } else { 0 } {
            return Err("the compressed edits do not have the expected size".into());
        }
        Ok(Ptp { start, edits, dates })
    }

    /// Range in `ptp` of the edits of a column 1 code (empty when it has none).
    pub fn column1_range(&self, column1: u32) -> std::ops::Range<usize> {
        match (self.start.get(column1 as usize), self.start.get(column1 as usize + 1)) {
            (Some(&s), Some(&e)) if s <= e && e as usize <= self.edits.len() => s as usize..e as usize,
            _ => 0..0,
        }
    }

    /// The first index of `range` (a part of one column 1 code's edits) whose column 2 is not
    /// below `column2`; `range.end` when none.
    /// Short ranges are scanned (one or two cache lines, predictable), long ones bisected.
    pub fn lower_bound(&self, range: std::ops::Range<usize>, column2: u32) -> usize {
        let edits = self.edits.get(range.clone()).unwrap_or(&[]);
        let below = |e: &u32| e >> CODE_SHIFT < column2;
        if edits.len() <= 32 {
            range.start + edits.iter().take_while(|e| below(e)).count()
        } else {
            range.start + edits.partition_point(below)
        }
    }

    /// The indices from `at` (before `end`) whose column 2 is `column2`.
    pub fn equal_from(&self, at: usize, end: usize, column2: u32) -> std::ops::Range<usize> {
        let edits = self.edits.get(at..end).unwrap_or(&[]);
        at..at + edits.iter().take_while(|&&e| e >> CODE_SHIFT == column2).count()
    }

    /// Range in `ptp` of the edits whose column 1 is `column1` and column 2 is `column2`.
    #[cfg(test)]
    pub fn ptp_range(&self, column1: u32, column2: u32) -> std::ops::Range<usize> {
        let range = self.column1_range(column1);
        let at = self.lower_bound(range.clone(), column2);
        self.equal_from(at, range.end, column2)
    }

    /// The column 2 code id of the edit at index `i` of `ptp`.
    pub fn column2_at(&self, i: usize) -> u32 {
        self.edits.get(i).map_or(u32::MAX, |e| e >> CODE_SHIFT)
    }

    /// The edit at index `i` of `ptp`.
    pub fn entry(&self, i: usize) -> PtpEntry {
        let e = self.edits[i];
        let (effective, deleted) = match self.dates.get(i) {
            Some(&d) => (unpack_date((d >> 16) as u16), unpack_date(d as u16)),
            None => (None, None),
        };
        PtpEntry {
            column2: e >> CODE_SHIFT,
            modifier_indicator: match (e >> INDICATOR_SHIFT) & 3 {
                0 => 0,
                1 => 1,
                _ => 9,
            },
            rationale: e & ((1 << RATIONALE_BITS) - 1),
            effective,
            deleted,
        }
    }

    /// Whether edit `i` is in effect on `date`: on or after its effective date and before its
    /// deletion date. Without a date, an edit applies unless it has a deletion date (the
    /// file's current edits).
    pub fn applies(&self, i: usize, date: Option<NaiveDate>) -> bool {
        let Some(&d) = self.dates.get(i) else { return true };
        let (effective, deleted) = (unpack_date((d >> 16) as u16), unpack_date(d as u16));
        match date {
            Some(date) => effective.is_none_or(|e| e <= date) && deleted.is_none_or(|x| date < x),
            None => deleted.is_none(),
        }
    }

    /// For each column 1 code with edits: its id, its packed edits and their packed dates
    /// (empty when undated).
    pub fn groups(&self) -> impl Iterator<Item = (u32, &[u32], &[u32])> + '_ {
        (0..self.start.len().saturating_sub(1)).filter_map(move |c| {
            let (s, e) = (self.start[c] as usize, self.start[c + 1] as usize);
            (e > s).then(|| (c as u32, &self.edits[s..e], self.dates.get(s..e).unwrap_or(&[])))
        })
    }
}

/// Collects edits from any number of source files, then packs them.
#[derive(Default)]
pub(crate) struct NcciBuilder {
    rationales: HashMap<String, u32>,
    ptp: Vec<RawPtp>,
    mue: Vec<(Key, u32, u8, u32)>,
}

struct RawPtp {
    column1: Key,
    column2: Key,
    indicator: u8,
    rationale: u32,
    dates: u32,
}

impl NcciBuilder {
    fn intern(&mut self, rationale: &str) -> u32 {
        if let Some(&id) = self.rationales.get(rationale) {
            return id;
        }
        let id = self.rationales.len() as u32;
        self.rationales.insert(rationale.to_string(), id);
        id
    }

    /// Adds one PTP edit.
    pub fn add_ptp(&mut self, row: &crate::import::ncci::PtpRow<'_>) -> Result<()> {
        let key = |s: &str| Key::parse(s).map_err(|e| Error::Book(format!("NCCI code {s:?}: {e}")));
        let (column1, column2) = (key(row.column1)?, key(row.column2)?);
        let indicator = match row.modifier_indicator {
            0 => 0,
            1 => 1,
            9 => 2,
            other => return Err(Error::Book(format!("edit {column1}/{column2}: modifier indicator {other}"))),
        };
        let dates = (u32::from(pack_date(row.effective)?) << 16) | u32::from(pack_date(row.deleted)?);
        let rationale = self.intern(row.rationale.trim());
        self.ptp.push(RawPtp { column1, column2, indicator, rationale, dates });
        Ok(())
    }

    /// Adds one MUE.
    pub fn add_mue(&mut self, row: &crate::import::ncci::MueRow) -> Result<()> {
        let code = Key::parse(&row.code).map_err(|e| Error::Book(format!("NCCI code {:?}: {e}", row.code)))?;
        let rationale = self.intern(row.rationale.trim());
        self.mue.push((code, row.mue_value, row.adjudication_indicator, rationale));
        Ok(())
    }

    /// Packs everything. Ids do not depend on the order the rows came in: codes and rationales
    /// are numbered in sorted order, so the same sources always give the same tables.
    pub fn finish(self) -> Result<NcciTables> {
        let NcciBuilder { rationales, ptp, mue } = self;
        let mut texts: Vec<(String, u32)> = rationales.into_iter().collect();
        texts.sort();
        if texts.len() > MAX_RATIONALES {
            return Err(Error::Book(format!("{} distinct NCCI rationales; at most {MAX_RATIONALES} fit", texts.len())));
        }
        let mut remap = vec![0u32; texts.len()];
        for (new, (_, old)) in texts.iter().enumerate() {
            remap[*old as usize] = new as u32;
        }
        let rationales: Vec<Arc<str>> = texts.into_iter().map(|(t, _)| Arc::from(t)).collect();

        let mut codes: Vec<Key> = ptp.iter().flat_map(|r| [r.column1, r.column2]).chain(mue.iter().map(|m| m.0)).collect();
        codes.sort_unstable();
        codes.dedup();
        if codes.len() > MAX_CODES {
            return Err(Error::Book(format!("{} distinct NCCI codes; at most {MAX_CODES} fit", codes.len())));
        }
        let id = |k: &Key| codes.binary_search(k).unwrap_or(0) as u32;

        let dated = ptp.iter().any(|r| r.dates != 0);
        let mut packed: Vec<(u32, u32, u32)> = ptp
            .iter()
            .map(|r| {
                (
                    id(&r.column1),
                    (id(&r.column2) << CODE_SHIFT) | (u32::from(r.indicator) << INDICATOR_SHIFT) | remap[r.rationale as usize],
                    r.dates,
                )
            })
            .collect();
        drop(ptp);
        // By column 1, column 2, then date (a pair's periods in order), then the rest.
        packed.sort_unstable_by_key(|&(c1, e, d)| (c1, e >> CODE_SHIFT, d, e));
        packed.dedup();
        let mut groups: Vec<(u32, u32)> = Vec::new();
        let mut edits = Vec::with_capacity(packed.len());
        let mut dates = Vec::with_capacity(if dated { packed.len() } else { 0 });
        for (c1, e, d) in packed {
            match groups.last_mut() {
                Some(g) if g.0 == c1 => g.1 += 1,
                _ => groups.push((c1, 1)),
            }
            edits.push(e);
            if dated {
                dates.push(d);
            }
        }

        let mut mue: Vec<MueEntry> = mue
            .iter()
            .map(|&(code, mue_value, adjudication_indicator, rationale)| MueEntry {
                code: id(&code),
                mue_value,
                adjudication_indicator,
                rationale: remap[rationale as usize] as u16,
            })
            .collect();
        mue.sort_unstable_by_key(|m| (m.code, m.mue_value, m.adjudication_indicator, m.rationale));
        mue.dedup();
        if let Some(w) = mue.windows(2).find(|w| w[0].code == w[1].code) {
            return Err(Error::Book(format!("code {} has two different MUEs", codes[w[0].code as usize])));
        }
        NcciTables::from_parts(codes, rationales, groups, edits, dates, mue)
    }
}

/// The home slot of a key in a table of `mask + 1` slots (Fibonacci hashing of its bytes).
fn slot_of(key: &Key, mask: usize) -> usize {
    let v = key.as_bytes().iter().fold(key.as_bytes().len() as u64, |v, &c| (v << 8) | u64::from(c));
    (v.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
}

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

fn pack_date(date: Option<NaiveDate>) -> Result<u16> {
    let Some(date) = date else { return Ok(0) };
    let days = (date - EPOCH).num_days() + 1;
    u16::try_from(days).ok().filter(|&d| d > 0).ok_or_else(|| Error::Book(format!("NCCI date {date} is outside 1970-2149")))
}

fn unpack_date(packed: u16) -> Option<NaiveDate> {
    (packed > 0).then(|| EPOCH + chrono::Duration::days(i64::from(packed) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::ncci::{MueRow, PtpRow};

    fn d(s: &str) -> Option<NaiveDate> {
        s.parse().ok()
    }

    fn row<'a>(c1: &'a str, c2: &'a str, ind: u8, rat: &'a str, eff: Option<NaiveDate>, del: Option<NaiveDate>) -> PtpRow<'a> {
        PtpRow { column1: c1, column2: c2, prior_1996: false, effective: eff, deleted: del, modifier_indicator: ind, rationale: rat }
    }

    #[test]
    fn packs_and_finds_edits_in_any_input_order() {
        let rows = [
            row("20610", "99213", 1, "b", None, None),
            row("20610", "11900", 0, "a", None, None),
            row("99213", "36415", 9, "b", None, None),
        ];
        let mut a = NcciBuilder::default();
        let mut b = NcciBuilder::default();
        for r in &rows {
            a.add_ptp(r).unwrap();
        }
        for r in rows.iter().rev() {
            b.add_ptp(r).unwrap();
            b.add_ptp(r).unwrap(); // duplicates collapse
        }
        let (a, mut b) = (a.finish().unwrap(), b.finish().unwrap());
        assert_eq!(a, b);
        // Packed tables hold the same edits, unpacked on first use.
        b.pack().unwrap();
        assert!(b.packed.is_some() && b.ptp.get().is_none());
        assert_eq!(a, b);
        assert!(b.ptp.get().is_some());
        assert!(!a.is_dated());
        assert_eq!(a.ptp_len(), 3);
        let id = |s: &str| a.code_id(&Key::parse(s).unwrap()).unwrap();
        let p = a.ptp().unwrap();
        let r = p.ptp_range(id("20610"), id("99213"));
        assert_eq!(r.len(), 1);
        let e = p.entry(r.start);
        assert_eq!((e.modifier_indicator, &*a.rationale(e.rationale)), (1, "b"));
        assert_eq!(p.entry(p.ptp_range(id("99213"), id("36415")).start).modifier_indicator, 9);
        assert!(p.ptp_range(id("99213"), id("20610")).is_empty());
        assert!(p.ptp_range(id("36415"), id("99213")).is_empty(), "36415 has no edits as column 1");
        assert!(p.column1_range(id("36415")).is_empty() && !p.column1_range(id("20610")).is_empty());
    }

    #[test]
    fn dates_round_trip_and_decide_what_applies() {
        let mut b = NcciBuilder::default();
        b.add_ptp(&row("20610", "99213", 1, "r", d("2010-01-01"), d("2012-07-01"))).unwrap();
        b.add_ptp(&row("20610", "99213", 0, "r", d("2012-07-01"), None)).unwrap();
        let mut t = b.finish().unwrap();
        t.pack().unwrap();
        assert!(t.is_dated());
        let id = |s: &str| t.code_id(&Key::parse(s).unwrap()).unwrap();
        let t = t.ptp().unwrap();
        let r = t.ptp_range(id("20610"), id("99213"));
        assert_eq!(r.len(), 2);
        let applying =
            |date: Option<NaiveDate>| r.clone().filter(|&i| t.applies(i, date)).map(|i| t.entry(i).modifier_indicator).collect::<Vec<_>>();
        assert_eq!(applying(d("2009-12-31")), Vec::<u8>::new());
        assert_eq!(applying(d("2010-01-01")), vec![1]);
        assert_eq!(applying(d("2012-06-30")), vec![1]);
        assert_eq!(applying(d("2012-07-01")), vec![0], "the deletion date is the first day the edit no longer applies");
        assert_eq!(applying(None), vec![0], "without a date, only edits without a deletion date apply");
        let e = t.entry(r.start);
        assert_eq!((e.effective, e.deleted), (d("2010-01-01"), d("2012-07-01")));
    }

    #[test]
    fn mue_conflicts_and_corrupt_parts_are_errors() {
        let mut b = NcciBuilder::default();
        let m = |v| MueRow { code: "36415".into(), mue_value: v, adjudication_indicator: 3, rationale: "x".into() };
        b.add_mue(&m(2)).unwrap();
        b.add_mue(&m(2)).unwrap();
        assert_eq!(b.finish().unwrap().mue_len(), 1);
        let mut b = NcciBuilder::default();
        b.add_mue(&m(2)).unwrap();
        b.add_mue(&m(3)).unwrap();
        assert!(b.finish().is_err());

        let k = |s: &str| Key::parse(s).unwrap();
        let codes = vec![k("11900"), k("20610")];
        let rats: Vec<Arc<str>> = vec!["x".into()];
        let parts = |groups: Vec<(u32, u32)>, edits: Vec<u32>, dates: Vec<u32>| {
            NcciTables::from_parts(codes.clone(), rats.clone(), groups, edits, dates, vec![])
        };
        assert!(parts(vec![(0, 1)], vec![1 << CODE_SHIFT], vec![]).is_ok());
        assert!(parts(vec![(0, 1)], vec![1 << CODE_SHIFT], vec![7]).is_ok());
        assert!(parts(vec![(0, 1)], vec![5 << CODE_SHIFT], vec![]).is_err(), "column 2 out of range");
        assert!(parts(vec![(0, 1)], vec![1 << CODE_SHIFT | 1], vec![]).is_err(), "rationale out of range");
        assert!(parts(vec![(0, 1)], vec![3 << INDICATOR_SHIFT], vec![]).is_err(), "indicator out of range");
        assert!(parts(vec![(7, 1)], vec![0], vec![]).is_err(), "column 1 out of range");
        assert!(parts(vec![(0, 2)], vec![0], vec![]).is_err(), "counts do not add up");
        assert!(parts(vec![(0, 0), (1, 1)], vec![0], vec![]).is_err(), "empty group");
        assert!(parts(vec![(1, 1), (0, 1)], vec![0, 0], vec![]).is_err(), "groups out of order");
        assert!(parts(vec![(0, 2)], vec![1 << CODE_SHIFT, 0], vec![]).is_err(), "edits out of order");
        assert!(parts(vec![(0, 1)], vec![0], vec![1, 2]).is_err(), "dates do not match");
        assert!(NcciTables::from_parts(vec![k("20610"), k("11900")], rats, vec![], vec![], vec![], vec![]).is_err());
        assert!(pack_date(d("1960-01-01")).is_err());
    }
}
