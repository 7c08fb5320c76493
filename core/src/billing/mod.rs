//! Billing checks with the CMS National Correct Coding Initiative (NCCI) edits: which pairs of
//! codes on a claim are procedure-to-procedure (PTP) edits, whether the claim's modifiers bypass
//! them, and which lines exceed a medically unlikely edit (MUE, units per day).
//!
//! This module owns the claim types ([`ClaimLine`], [`ClaimCheck`], [`PtpEdit`], [`MueResult`],
//! [`Mue`]), the check logic, and the compact in-memory edit tables (`tables`). The source
//! readers are in [`crate::import::ncci`]; the tables are stored in the book by
//! `book/billing_store.rs`.
//!
//! **The default book's edits are undated.** It carries the 2026 Q2 (labelled 2026-04-02)
//! practitioner PTP and MUE data from a JSON conversion of the CMS files that keeps every pair,
//! modifier indicator and rationale but drops the effective and deletion dates. With it a date of
//! service cannot select edits: every edit in the file applies, and [`ClaimCheck::edits_dated`]
//! is `false`. A book built from the official CMS files (`Sources::ncci_ptp`) has the dates.
//!
//! ```
//! use codelookup::billing::ClaimLine;
//! let book = codelookup::Book::open_default()?;
//! let lines = ["99213", "20610"].map(|l| ClaimLine::parse(l)).into_iter().collect::<Result<Vec<_>, _>>()?;
//! let check = book.check_claim(&lines, None)?;
//! // 20610 (arthrocentesis) is column 1, 99213 (office visit) column 2, modifier allowed.
//! let edit = &check.ptp[0];
//! assert_eq!((edit.column1.as_str(), edit.column2.as_str(), edit.modifier_indicator), ("20610", "99213", 1));
//! assert!(!edit.bypassed && check.denied_lines == [0]);
//! // With modifier 25 on the visit the edit is bypassed.
//! let lines = vec![ClaimLine::parse("99213-25")?, ClaimLine::parse("20610")?];
//! assert!(book.check_claim(&lines, None)?.clean);
//! # Ok::<(), codelookup::Error>(())
//! ```

pub(crate) mod tables;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::book::Book;
use crate::code::{truncate_for_message, Key, System};
use crate::error::{Error, Result};
use tables::{NcciTables, Ptp};

/// The NCCI PTP-associated modifiers: on either line of a pair whose modifier indicator is 1,
/// one of these bypasses the edit. Anatomic: E1-E4, FA, F1-F9, TA, T1-T9, LT, RT, LC, LD, RC,
/// LM, RI; global surgery: 24, 25, 57, 58, 78, 79; other: 27, 59, 91, XE, XS, XP, XU.
pub const PTP_ASSOCIATED_MODIFIERS: [&str; 44] = [
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7",
    "T8", "T9", "LT", "RT", "LC", "LD", "RC", "LM", "RI", "24", "25", "57", "58", "78", "79", "27", "59", "91", "XE", "XS", "XP", "XU",
];

/// The anatomic modifiers among [`PTP_ASSOCIATED_MODIFIERS`]: they bypass an edit only when the
/// two lines name different sites (the lines' anatomic modifiers differ).
const ANATOMIC: usize = 31;

/// One line of a claim: a CPT or HCPCS code, units of service and modifiers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClaimLine {
    /// The code, normalised (upper case): `99213`, `J1100`.
    pub code: String,
    /// Units of service, at least 1.
    pub units: u32,
    /// Two-character modifiers, upper case, in the order given.
    pub modifiers: Vec<String>,
}

impl ClaimLine {
    /// A line from its parts; the code and modifiers are checked and normalised.
    ///
    /// Errors: [`Error::InvalidCode`] when the code is not a CPT or HCPCS code (five letters
    /// or digits), [`Error::InvalidArgument`] for zero units or a malformed modifier.
    pub fn new<S: AsRef<str>>(code: &str, units: u32, modifiers: &[S]) -> Result<ClaimLine> {
        let key = ncci_key(code)?;
        if units == 0 {
            return Err(Error::InvalidArgument(format!("line {key}: units must be at least 1")));
        }
        let modifiers = modifiers.iter().map(|m| modifier(m.as_ref(), &key)).collect::<Result<Vec<_>>>()?;
        Ok(ClaimLine { code: key.as_str().to_string(), units, modifiers })
    }

    /// Parses `CODE[xUNITS][-MOD[-MOD...]]`: `99213`, `36415x2`, `20610-59`, `20610x2-RT-59`.
    /// Units default to 1; `x` may be upper or lower case.
    ///
    /// ```
    /// use codelookup::billing::ClaimLine;
    /// let line = ClaimLine::parse("j1100x3-rt-59")?;
    /// assert_eq!((line.code.as_str(), line.units, line.modifiers.clone()), ("J1100", 3, vec!["RT".to_string(), "59".to_string()]));
    /// assert!(ClaimLine::parse("99213x0").is_err() && ClaimLine::parse("99213-5").is_err() && ClaimLine::parse("E11.9").is_err());
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<ClaimLine> {
        let s = input.trim();
        let mut parts = s.split('-');
        let head = parts.next().unwrap_or_default();
        let (code, units) = match head.rfind(['x', 'X']) {
            Some(i) if i > 0 && i + 1 < head.len() && head[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
                let units = head[i + 1..].parse::<u32>().map_err(|_| {
                    Error::InvalidArgument(format!(
                        "{:?}: units {:?} are not a number up to {}",
                        truncate_for_message(input),
                        &head[i + 1..],
                        u32::MAX
                    ))
                })?;
                (&head[..i], units)
            }
            Some(i) if i + 1 == head.len() && i > 0 => {
                return Err(Error::InvalidArgument(format!("{:?}: units are missing after `x`", truncate_for_message(input))));
            }
            _ => (head, 1),
        };
        let modifiers: Vec<&str> = parts.collect();
        ClaimLine::new(code, units, &modifiers)
    }

    /// Whether the line carries the modifier.
    pub fn has_modifier(&self, modifier: &str) -> bool {
        self.modifiers.iter().any(|m| m.eq_ignore_ascii_case(modifier))
    }
}

impl FromStr for ClaimLine {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ClaimLine::parse(s)
    }
}

impl fmt::Display for ClaimLine {
    /// The `CODE[xUNITS][-MOD...]` spelling that [`ClaimLine::parse`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)?;
        if self.units != 1 {
            write!(f, "x{}", self.units)?;
        }
        for m in &self.modifiers {
            write!(f, "-{m}")?;
        }
        Ok(())
    }
}

/// A PTP edit between two codes of a claim (or of a list of codes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtpEdit {
    /// The column 1 code: eligible for payment.
    pub column1: Key,
    /// The column 2 code: denied when billed with column 1, unless the edit is bypassed.
    pub column2: Key,
    /// Index (from 0) of the claim line (or of the code in the list) holding column 1.
    pub column1_line: usize,
    /// Index (from 0) of the claim line (or of the code in the list) holding column 2.
    pub column2_line: usize,
    /// `0`: never allowed together, no modifier bypasses the edit; `1`: allowed with an
    /// appropriate NCCI PTP-associated modifier; `9`: not applicable (the edit was deleted on
    /// the day it took effect).
    pub modifier_indicator: u8,
    /// Why the edit exists (`Mutually exclusive procedures`, `Misuse of Column Two code with
    /// Column One code`, ...), shared with the book's table.
    pub rationale: Arc<str>,
    /// First date of service the edit applies to; `None` when the book's edits are undated
    /// (the default book).
    pub effective: Option<NaiveDate>,
    /// The edit no longer applies on and after this date; `None` while active or when undated.
    pub deleted: Option<NaiveDate>,
    /// The modifiers on the two lines bypass the edit (indicator 1 and a PTP-associated
    /// modifier on either line; anatomic modifiers only when the two lines' sites differ).
    pub bypassed: bool,
    /// The modifier that bypassed it, when one did.
    pub bypass_modifier: Option<String>,
}

/// A medically unlikely edit: the most units of service of a code per day under most
/// circumstances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mue {
    /// The code.
    pub code: Key,
    /// The limit, in units of service.
    pub mue_value: u32,
    /// MUE adjudication indicator: `1` claim line edit (each line is checked on its own; lines
    /// with different modifiers such as 76, 91, RT, LT may each carry the limit); `2` date of
    /// service edit, policy (units of the code on the day are added up; absolute); `3` date of
    /// service edit, clinical (added up; exceptions rare, with documentation).
    pub adjudication_indicator: u8,
    /// Why the limit is what it is (`CMS Policy`, `Anatomic Consideration`, ...).
    pub rationale: Arc<str>,
}

/// An MUE applied to a claim: one result per line for adjudication indicator 1, one per code
/// (its lines' units added up) for indicators 2 and 3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MueResult {
    /// The code.
    pub code: Key,
    /// Indices (from 0) of the claim lines counted.
    pub lines: Vec<usize>,
    /// Units counted (saturating at `u32::MAX`).
    pub units: u32,
    /// The limit.
    pub mue_value: u32,
    /// `1` line edit, `2` date of service edit (policy), `3` date of service edit (clinical).
    pub adjudication_indicator: u8,
    /// The MUE rationale.
    pub rationale: Arc<str>,
    /// `units > mue_value`: the lines' units are denied.
    pub exceeds: bool,
}

/// The result of checking a claim against the NCCI edits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimCheck {
    /// The date of service the claim was checked for, if given.
    pub date_of_service: Option<NaiveDate>,
    /// Whether the book's PTP edits carry effective and deletion dates. `false` for the default
    /// book: its conversion of the CMS files is undated, so every edit in it applies whatever
    /// the date of service.
    pub edits_dated: bool,
    /// Every PTP edit in effect between two lines of the claim, bypassed or not, in line order.
    /// Edits with modifier indicator 9 never apply and are not listed.
    pub ptp: Vec<PtpEdit>,
    /// Every MUE that applies to the claim's lines, exceeded or not.
    pub mue: Vec<MueResult>,
    /// Lines that would be denied: the column 2 line of each edit not bypassed, and the lines
    /// of each MUE exceeded. Sorted, without repeats.
    pub denied_lines: Vec<usize>,
    /// No line is denied.
    pub clean: bool,
}

/// What a modifier indicator means, in words.
pub fn modifier_indicator_label(indicator: u8) -> &'static str {
    match indicator {
        0 => "not allowed: no modifier bypasses the edit",
        1 => "allowed with an NCCI PTP-associated modifier",
        9 => "not applicable",
        _ => "unknown",
    }
}

/// What an MUE adjudication indicator means, in words.
pub fn adjudication_indicator_label(indicator: u8) -> &'static str {
    match indicator {
        1 => "line edit",
        2 => "date of service edit: policy",
        3 => "date of service edit: clinical",
        _ => "unknown",
    }
}

/// The NCCI and GEM tables of a book.
#[derive(Debug, Default)]
pub(crate) struct BillingTables {
    pub ncci: NcciTables,
    pub gems: crate::crosswalk::Gems,
}

impl BillingTables {
    /// Bytes of heap the tables hold.
    pub fn heap_bytes(&self) -> usize {
        self.ncci.heap_bytes() + self.gems.heap_bytes()
    }
}

/// Reads the NCCI and GEM sources named in `sources` (each optional) for the book being
/// compiled, and adds a few facts to its metadata.
pub(crate) fn compile(sources: &crate::import::sources::Sources, meta: &mut Vec<(String, String)>) -> Result<BillingTables> {
    use crate::crosswalk::{Direction, Gems};
    let mut builder = tables::NcciBuilder::default();
    for path in &sources.ncci_ptp {
        crate::import::ncci::read_ptp(path, &mut |row| builder.add_ptp(&row))?;
    }
    if let Some(path) = &sources.ncci_mue {
        for row in crate::import::ncci::read_mue(path)? {
            builder.add_mue(&row)?;
        }
    }
    let ncci = builder.finish()?;
    let mut gems = Gems::default();
    if let Some(path) = &sources.gems_icd9_to_icd10 {
        gems.set(Direction::Icd9To10, crate::import::gems::read(path)?)?;
    }
    if let Some(path) = &sources.gems_icd10_to_icd9 {
        gems.set(Direction::Icd10To9, crate::import::gems::read(path)?)?;
    }
    meta.push(("ncci_ptp_edits".into(), ncci.ptp_len().to_string()));
    meta.push(("ncci_ptp_dated".into(), ncci.is_dated().to_string()));
    meta.push(("ncci_mue_codes".into(), ncci.mue_len().to_string()));
    meta.push(("gems_icd9_to_icd10".into(), gems.len(Direction::Icd9To10).to_string()));
    meta.push(("gems_icd10_to_icd9".into(), gems.len(Direction::Icd10To9).to_string()));
    Ok(BillingTables { ncci, gems })
}

/// Normalises a code of a claim: a CPT or HCPCS code, five letters or digits.
fn ncci_key(code: &str) -> Result<Key> {
    let key = Key::parse(code)?;
    if key.as_bytes().len() == 5 && (System::Cpt.accepts(&key) || System::Hcpcs.accepts(&key)) {
        Ok(key)
    } else {
        Err(Error::InvalidCode {
            input: truncate_for_message(code),
            reason: "not a CPT or HCPCS code (five characters, like 99213, 0001A or J1100)".into(),
        })
    }
}

fn is_modifier(m: &str) -> bool {
    let t = m.trim();
    t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn bad_modifier(m: &str, key: &Key) -> Error {
    Error::InvalidArgument(format!("line {key}: modifier {:?} is not two letters or digits", truncate_for_message(m)))
}

fn modifier(m: &str, key: &Key) -> Result<String> {
    if is_modifier(m) {
        Ok(m.trim().to_ascii_uppercase())
    } else {
        Err(bad_modifier(m, key))
    }
}

/// The index in [`PTP_ASSOCIATED_MODIFIERS`] of a modifier, if it is one.
fn associated(m: &str) -> Option<usize> {
    let b = m.trim().as_bytes();
    let upper = [b.first()?.to_ascii_uppercase(), b.get(1)?.to_ascii_uppercase()];
    (b.len() == 2).then(|| PTP_ASSOCIATED_MODIFIERS.iter().position(|a| a.as_bytes() == upper)).flatten()
}

/// What a line's modifiers can do to a PTP edit: its first non-anatomic PTP-associated
/// modifier, and the set of its anatomic ones (bits indexed like [`PTP_ASSOCIATED_MODIFIERS`]).
#[derive(Clone, Copy, Default)]
struct LineModifiers {
    other: Option<u8>,
    sites: u32,
}

impl LineModifiers {
    fn of(modifiers: &[String]) -> LineModifiers {
        let mut out = LineModifiers::default();
        for i in modifiers.iter().filter_map(|m| associated(m)) {
            if i >= ANATOMIC {
                out.other = out.other.or(Some(i as u8));
            } else {
                out.sites |= 1 << i;
            }
        }
        out
    }
}

/// The modifier that bypasses an indicator-1 edit between lines with modifiers `a` and `b`:
/// a non-anatomic one (59, X{EPSU}, 25, 91...) on either line, or an anatomic one when the two
/// lines do not name the same sites.
fn bypass(a: LineModifiers, b: LineModifiers) -> Option<&'static str> {
    if let Some(i) = a.other.or(b.other) {
        return Some(PTP_ASSOCIATED_MODIFIERS[i as usize]);
    }
    if a.sites != b.sites {
        let sites = if b.sites != 0 { b.sites } else { a.sites };
        return Some(PTP_ASSOCIATED_MODIFIERS[sites.trailing_zeros() as usize]);
    }
    None
}

impl Book {
    /// Checks a claim's lines against the NCCI edits: every PTP edit between two of its lines
    /// (with whether the lines' modifiers bypass it) and every MUE (with whether the units
    /// exceed it). Lines are all for one beneficiary, provider and date of service.
    ///
    /// With `date_of_service`, only edits in effect that day apply (effective on or before it,
    /// deleted after it); without, only edits the book has as current (no deletion date). The
    /// default book's edits are undated ([`ClaimCheck::edits_dated`] is `false`), so there the
    /// date changes nothing.
    ///
    /// Errors: [`Error::InvalidCode`] / [`Error::InvalidArgument`] for a malformed line (the
    /// fields of a [`ClaimLine`] are public, so they are checked again), [`Error::Book`] when
    /// the book has no NCCI edits at all. Cost: about 25 µs for a 20-line claim (the first check
    /// after opening a book also unpacks the PTP edits, about 20 ms once).
    ///
    /// ```
    /// use codelookup::billing::ClaimLine;
    /// let book = codelookup::Book::open_default()?;
    /// let lines = vec![ClaimLine::parse("36415x3")?];
    /// let check = book.check_claim(&lines, None)?;
    /// let mue = &check.mue[0];
    /// assert_eq!((mue.mue_value, mue.adjudication_indicator, mue.exceeds), (2, 3, true));
    /// assert_eq!(check.denied_lines, [0]);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn check_claim(&self, lines: &[ClaimLine], date_of_service: Option<NaiveDate>) -> Result<ClaimCheck> {
        check_claim(&self.data().billing.ncci, lines, date_of_service)
    }

    /// Every PTP edit between two of `codes` (codes billed together), whatever its dates and
    /// modifier indicator, with [`PtpEdit::column1_line`] and [`PtpEdit::column2_line`] the
    /// codes' indices in `codes`. No modifiers are involved, so `bypassed` is `false`.
    ///
    /// Errors: [`Error::InvalidCode`] for a code that is not a CPT or HCPCS code. Cost: about
    /// 20 ns per pair of codes.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// let edits = book.ptp_edits(["99214", "99213"])?;
    /// assert_eq!(edits.len(), 1);
    /// assert_eq!((edits[0].column1.as_str(), edits[0].column2.as_str()), ("99213", "99214"));
    /// assert_eq!(&*edits[0].rationale, "Misuse of Column Two code with Column One code");
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn ptp_edits<I, S>(&self, codes: I) -> Result<Vec<PtpEdit>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ptp_edits(&self.data().billing.ncci, codes)
    }

    /// The MUE of a code, or `None` when it has none (many codes have none; CMS also keeps some
    /// values confidential).
    ///
    /// Errors: [`Error::InvalidCode`] for input that is not a CPT or HCPCS code. Cost: one
    /// binary search, well under a microsecond.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// let mue = book.mue("36415")?.unwrap();
    /// assert_eq!((mue.mue_value, mue.adjudication_indicator), (2, 3));
    /// assert!(book.mue("99999")?.is_none());
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn mue(&self, code: &str) -> Result<Option<Mue>> {
        mue(&self.data().billing.ncci, code)
    }

    /// How many bytes of memory the book's NCCI edit tables and GEMs take (heap, computed).
    #[doc(hidden)]
    pub fn billing_heap_bytes(&self) -> usize {
        self.data().billing.heap_bytes()
    }
}

/// Calls `f(edit index, column 1 line, column 2 line)` for every PTP edit whose column 1 and
/// column 2 codes are both among `known` ((code id, line), sorted), the line pairs in any order
/// and a line paired with itself included (callers skip those).
///
/// A short edit list is scanned (sequential reads) against a 1024-bit filter of the codes; a
/// long one is searched once per code, each search starting where the last ended.
fn for_each_pair(t: &Ptp, known: &[(u32, u32)], f: &mut dyn FnMut(usize, u32, u32)) {
    let mut filter = [0u64; 16];
    for &(id, _) in known {
        filter[(id as usize >> 6) & 15] |= 1 << (id & 63);
    }
    for &(c1, i) in known {
        let range = t.column1_range(c1);
        if range.len() <= 16 * known.len() {
            for k in range {
                let c2 = t.column2_at(k);
                if filter[(c2 as usize >> 6) & 15] & (1 << (c2 & 63)) != 0 {
                    let from = known.partition_point(|x| x.0 < c2);
                    for &(_, j) in known[from..].iter().take_while(|x| x.0 == c2) {
                        f(k, i, j);
                    }
                }
            }
        } else {
            let mut at = range.start;
            for &(c2, j) in known {
                at = t.lower_bound(at..range.end, c2);
                for k in t.equal_from(at, range.end, c2) {
                    f(k, i, j);
                }
            }
        }
    }
}

fn check_claim(t: &NcciTables, lines: &[ClaimLine], date_of_service: Option<NaiveDate>) -> Result<ClaimCheck> {
    if t.is_empty() {
        return Err(Error::Book("this book has no NCCI edits; build it with the NCCI sources".into()));
    }
    let p = t.ptp()?;
    let n = lines.len();
    let mut keys: Vec<Key> = Vec::with_capacity(n);
    let mut ids: Vec<Option<u32>> = Vec::with_capacity(n);
    let mut mods: Vec<LineModifiers> = Vec::with_capacity(n);
    // (code id, line) of the lines whose code has NCCI edits, by code id.
    let mut known: Vec<(u32, u32)> = Vec::with_capacity(n);
    for (i, line) in lines.iter().enumerate() {
        let key = ncci_key(&line.code)?;
        if line.units == 0 {
            return Err(Error::InvalidArgument(format!("line {key}: units must be at least 1")));
        }
        if let Some(m) = line.modifiers.iter().find(|m| !is_modifier(m)) {
            return Err(bad_modifier(m, &key));
        }
        let id = t.code_id(&key);
        if let Some(id) = id {
            known.push((id, i as u32));
        }
        ids.push(id);
        keys.push(key);
        mods.push(LineModifiers::of(&line.modifiers));
    }
    known.sort_unstable();

    // The edits that apply, as (column 1 line, column 2 line, edit index, bypassing modifier).
    let mut hits: Vec<(u32, u32, u32, Option<&'static str>)> = Vec::new();
    let mut consider = |k: usize, i: u32, j: u32| {
        if i == j || !p.applies(k, date_of_service) {
            return;
        }
        let indicator = p.entry(k).modifier_indicator;
        if indicator != 9 {
            let by = if indicator == 1 { bypass(mods[i as usize], mods[j as usize]) } else { None };
            hits.push((i, j, k as u32, by));
        }
    };
    for_each_pair(p, &known, &mut consider);
    hits.sort_unstable_by_key(|h| (h.0, h.1, h.2));

    let mut denied_lines: Vec<usize> = Vec::new();
    let mut ptp = Vec::with_capacity(hits.len());
    for (i, j, k, by) in hits {
        if by.is_none() {
            denied_lines.push(j as usize);
        }
        ptp.push(ptp_edit(t, p, &keys, (i, j, k), by));
    }

    let mut mue: Vec<MueResult> = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let Some(m) = id.and_then(|id| t.mue(id)) else { continue };
        if m.adjudication_indicator != 1 {
            // Date of service edit: one result per code, its lines' units added up.
            if let Some(r) = mue.iter_mut().find(|r| r.adjudication_indicator != 1 && ids[r.lines[0]] == *id) {
                r.lines.push(i);
                r.units = r.units.saturating_add(lines[i].units);
                r.exceeds = r.units > r.mue_value;
                continue;
            }
        }
        mue.push(MueResult {
            code: keys[i],
            lines: vec![i],
            units: lines[i].units,
            mue_value: m.mue_value,
            adjudication_indicator: m.adjudication_indicator,
            rationale: t.rationale(u32::from(m.rationale)),
            exceeds: lines[i].units > m.mue_value,
        });
    }
    for r in mue.iter().filter(|r| r.exceeds) {
        denied_lines.extend(&r.lines);
    }
    denied_lines.sort_unstable();
    denied_lines.dedup();
    let clean = denied_lines.is_empty();
    Ok(ClaimCheck { date_of_service, edits_dated: t.is_dated(), ptp, mue, denied_lines, clean })
}

fn ptp_edits<I, S>(t: &NcciTables, codes: I) -> Result<Vec<PtpEdit>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let keys = codes.into_iter().map(|c| ncci_key(c.as_ref())).collect::<Result<Vec<_>>>()?;
    let p = t.ptp()?;
    let mut known: Vec<(u32, u32)> = keys.iter().enumerate().filter_map(|(i, k)| Some((t.code_id(k)?, i as u32))).collect();
    known.sort_unstable();
    let mut hits: Vec<(u32, u32, u32)> = Vec::new();
    for_each_pair(p, &known, &mut |k, i, j| {
        if i != j {
            hits.push((i, j, k as u32));
        }
    });
    hits.sort_unstable();
    Ok(hits.into_iter().map(|hit| ptp_edit(t, p, &keys, hit, None)).collect())
}

/// The [`PtpEdit`] of edit `k` between lines (or codes) `i` (column 1) and `j` (column 2),
/// bypassed by `by` when given.
fn ptp_edit(t: &NcciTables, p: &Ptp, keys: &[Key], (i, j, k): (u32, u32, u32), by: Option<&str>) -> PtpEdit {
    let (i, j) = (i as usize, j as usize);
    let e = p.entry(k as usize);
    PtpEdit {
        column1: keys[i],
        column2: keys[j],
        column1_line: i,
        column2_line: j,
        modifier_indicator: e.modifier_indicator,
        rationale: t.rationale(e.rationale),
        effective: e.effective,
        deleted: e.deleted,
        bypassed: by.is_some(),
        bypass_modifier: by.map(str::to_string),
    }
}

fn mue(t: &NcciTables, code: &str) -> Result<Option<Mue>> {
    let key = ncci_key(code)?;
    Ok(t.code_id(&key).and_then(|id| t.mue(id)).map(|m| Mue {
        code: key,
        mue_value: m.mue_value,
        adjudication_indicator: m.adjudication_indicator,
        rationale: t.rationale(u32::from(m.rationale)),
    }))
}

#[cfg(test)]
mod tests;
