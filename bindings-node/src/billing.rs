//! Claim checks with the CMS NCCI edits: `Book.checkClaim`, `Book.ptpEdits` and `Book.mue`
//! (the core's [`codelookup::billing`]), with claim lines taken as strings or objects and the
//! results as plain objects. Line indices count from 0; dates are `"YYYY-MM-DD"`.
//!
//! The default book's edits are undated (the 2026 Q2 practitioner PTP and MUE data without
//! effective and deletion dates): there every edit applies whatever the date of service, and
//! `ClaimCheck.editsDated` is `false`.

use codelookup::billing as core;
use codelookup::Error as CoreError;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::book::Book;
use crate::error::{or_throw, whole};
use crate::record::{convert, date, parse_date};

/// One line of a claim as an object (`checkClaim` also takes the string `'20610x2-RT-59'`).
#[napi(object)]
#[derive(Clone, Debug)]
pub struct ClaimLine {
    /// A CPT or HCPCS code, five letters or digits (`99213`, `J1100`), any case.
    pub code: String,
    /// Units of service, a whole number of at least 1 (default 1).
    pub units: Option<f64>,
    /// Two-character modifiers (`25`, `59`, `RT`), any case, in the order billed.
    pub modifiers: Option<Vec<String>>,
}

/// Options of `Book.checkClaim`.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct CheckClaimOptions {
    /// The date of service, `"YYYY-MM-DD"`: only edits in effect that day apply (with dated
    /// edits; the default book's are undated). Without it, the edits the book has as current.
    pub date: Option<String>,
}

/// A procedure-to-procedure (PTP) edit between two codes of a claim (or of a list of codes).
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct PtpEdit {
    /// The column 1 code: eligible for payment.
    pub column1: String,
    /// The column 2 code: denied when billed with column 1, unless the edit is bypassed.
    pub column2: String,
    /// Index (from 0) of the claim line (or of the code in the list) holding column 1.
    pub column1_line: u32,
    /// Index (from 0) of the claim line (or of the code in the list) holding column 2.
    pub column2_line: u32,
    /// `0`: never allowed together, no modifier bypasses the edit; `1`: allowed with an
    /// appropriate NCCI PTP-associated modifier; `9`: not applicable (the edit was deleted on
    /// the day it took effect).
    pub modifier_indicator: u32,
    /// Why the edit exists (`Mutually exclusive procedures`, `Misuse of Column Two code with
    /// Column One code`, ...).
    pub rationale: String,
    /// First date of service the edit applies to; `null` when the book's edits are undated
    /// (the default book).
    pub effective: Option<String>,
    /// The edit no longer applies on and after this date; `null` while active or when undated.
    pub deleted: Option<String>,
    /// The modifiers on the two lines bypass the edit (indicator 1 and a PTP-associated
    /// modifier on either line; anatomic modifiers only when the two lines' sites differ).
    /// Always `false` from `ptpEdits`, which has no modifiers.
    pub bypassed: bool,
    /// The modifier that bypassed it, when one did.
    pub bypass_modifier: Option<String>,
}

impl From<core::PtpEdit> for PtpEdit {
    fn from(e: core::PtpEdit) -> PtpEdit {
        let core::PtpEdit {
            column1,
            column2,
            column1_line,
            column2_line,
            modifier_indicator,
            rationale,
            effective,
            deleted,
            bypassed,
            bypass_modifier,
        } = e;
        PtpEdit {
            column1: column1.to_string(),
            column2: column2.to_string(),
            column1_line: index(column1_line),
            column2_line: index(column2_line),
            modifier_indicator: modifier_indicator.into(),
            rationale: rationale.to_string(),
            effective: effective.map(date),
            deleted: deleted.map(date),
            bypassed,
            bypass_modifier,
        }
    }
}

/// A medically unlikely edit (MUE): the most units of service of a code per day under most
/// circumstances.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Mue {
    /// The code.
    pub code: String,
    /// The limit, in units of service.
    pub mue_value: u32,
    /// MUE adjudication indicator: `1` claim line edit (each line is checked on its own; lines
    /// with different modifiers such as 76, 91, RT, LT may each carry the limit); `2` date of
    /// service edit, policy (units of the code on the day are added up; absolute); `3` date of
    /// service edit, clinical (added up; exceptions rare, with documentation).
    pub adjudication_indicator: u32,
    /// Why the limit is what it is (`CMS Policy`, `Anatomic Consideration`, ...).
    pub rationale: String,
}

impl From<core::Mue> for Mue {
    fn from(m: core::Mue) -> Mue {
        let core::Mue { code, mue_value, adjudication_indicator, rationale } = m;
        Mue { code: code.to_string(), mue_value, adjudication_indicator: adjudication_indicator.into(), rationale: rationale.to_string() }
    }
}

/// An MUE applied to a claim: one result per line for adjudication indicator 1, one per code
/// (its lines' units added up) for indicators 2 and 3.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct MueResult {
    /// The code.
    pub code: String,
    /// Indices (from 0) of the claim lines counted.
    pub lines: Vec<u32>,
    /// Units counted.
    pub units: u32,
    /// The limit.
    pub mue_value: u32,
    /// `1` line edit, `2` date of service edit (policy), `3` date of service edit (clinical).
    pub adjudication_indicator: u32,
    /// The MUE rationale.
    pub rationale: String,
    /// `units > mueValue`: the lines' units are denied.
    pub exceeds: bool,
}

impl From<core::MueResult> for MueResult {
    fn from(r: core::MueResult) -> MueResult {
        let core::MueResult { code, lines, units, mue_value, adjudication_indicator, rationale, exceeds } = r;
        MueResult {
            code: code.to_string(),
            lines: lines.into_iter().map(index).collect(),
            units,
            mue_value,
            adjudication_indicator: adjudication_indicator.into(),
            rationale: rationale.to_string(),
            exceeds,
        }
    }
}

/// What `Book.checkClaim` returns.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct ClaimCheck {
    /// The date of service the claim was checked for, if given.
    pub date_of_service: Option<String>,
    /// Whether the book's PTP edits carry effective and deletion dates. `false` for the default
    /// book: its edits are undated, so every edit in it applies whatever the date of service.
    pub edits_dated: bool,
    /// Every PTP edit in effect between two lines of the claim, bypassed or not, in line order.
    /// Edits with modifier indicator 9 never apply and are not listed.
    pub ptp: Vec<PtpEdit>,
    /// Every MUE that applies to the claim's lines, exceeded or not.
    pub mue: Vec<MueResult>,
    /// Lines (from 0) that would be denied: the column 2 line of each edit not bypassed, and
    /// the lines of each MUE exceeded. Sorted, without repeats.
    pub denied_lines: Vec<u32>,
    /// No line is denied.
    pub clean: bool,
}

impl From<core::ClaimCheck> for ClaimCheck {
    fn from(c: core::ClaimCheck) -> ClaimCheck {
        let core::ClaimCheck { date_of_service, edits_dated, ptp, mue, denied_lines, clean } = c;
        ClaimCheck {
            date_of_service: date_of_service.map(date),
            edits_dated,
            ptp: convert(ptp),
            mue: convert(mue),
            denied_lines: denied_lines.into_iter().map(index).collect(),
            clean,
        }
    }
}

/// A line or code index for JavaScript (no claim has 2^32 lines).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// A claim line from its JS form: the `CODE[xUNITS][-MOD...]` string, or an object.
fn claim_line(line: Either<String, ClaimLine>) -> codelookup::Result<core::ClaimLine> {
    match line {
        Either::A(s) => core::ClaimLine::parse(&s),
        Either::B(ClaimLine { code, units, modifiers }) => {
            let units = match units {
                None => 1,
                // Zero is the core's to refuse.
                Some(u) => match whole("units", u, u32::MAX.into()) {
                    Ok(u) => u32::try_from(u).unwrap_or(u32::MAX),
                    Err(CoreError::InvalidArgument(why)) => {
                        let shown: String = code.chars().take(40).collect();
                        return Err(CoreError::InvalidArgument(format!("line {shown:?}: {why}")));
                    }
                    Err(e) => return Err(e),
                },
            };
            core::ClaimLine::new(&code, units, modifiers.as_deref().unwrap_or_default())
        }
    }
}

fn check_claim(
    book: &codelookup::Book,
    lines: Vec<Either<String, ClaimLine>>,
    options: Option<CheckClaimOptions>,
) -> codelookup::Result<ClaimCheck> {
    let CheckClaimOptions { date } = options.unwrap_or_default();
    let date_of_service = date.as_deref().map(parse_date).transpose()?;
    let lines = lines.into_iter().map(claim_line).collect::<codelookup::Result<Vec<_>>>()?;
    Ok(book.check_claim(&lines, date_of_service)?.into())
}

#[napi]
impl Book {
    /// Checks a claim's lines against the NCCI edits: every PTP edit between two of its lines
    /// (with whether the lines' modifiers bypass it) and every MUE (with whether the units
    /// exceed it). The lines are all for one beneficiary, provider and date of service; each is
    /// a string `CODE[xUNITS][-MOD...]` (`'99213-25'`, `'36415x2'`, `'20610x2-RT-59'`) or an
    /// object `{ code, units?, modifiers? }`.
    ///
    /// Throws `INVALID_CODE` for a code that is not a CPT or HCPCS code, `INVALID_ARGUMENT` for
    /// zero or fractional units, a malformed modifier or date, `BOOK_ERROR` when the book has
    /// no NCCI edits. About 5 µs for a 20-line claim in the core.
    ///
    /// ```js
    /// const check = book.checkClaim(['99213', '20610'])
    /// check.ptp[0]       // { column1: '20610', column2: '99213', modifierIndicator: 1, bypassed: false, ... }
    /// check.deniedLines  // [0]: the visit, unless modifier 25 is on it
    /// book.checkClaim([{ code: '99213', modifiers: ['25'] }, '20610']).clean // true
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn check_claim(&self, env: &Env, lines: Vec<Either<String, ClaimLine>>, options: Option<CheckClaimOptions>) -> Result<ClaimCheck> {
        or_throw(env, check_claim(&self.book, lines, options))
    }

    /// Every PTP edit between two of `codes` (CPT or HCPCS codes billed together), whatever
    /// its dates and modifier indicator, with `column1Line` and `column2Line` the codes'
    /// indices in `codes`. No modifiers are involved, so `bypassed` is `false`.
    ///
    /// Throws `INVALID_CODE` for a code that is not a CPT or HCPCS code.
    ///
    /// ```js
    /// book.ptpEdits(['99214', '99213'])
    /// // [{ column1: '99213', column2: '99214', rationale: 'Misuse of Column Two code with Column One code', ... }]
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn ptp_edits(&self, env: &Env, codes: Vec<String>) -> Result<Vec<PtpEdit>> {
        or_throw(env, self.book.ptp_edits(&codes)).map(convert)
    }

    /// The medically unlikely edit (MUE) of a code, or `null` when it has none (many codes
    /// have none; CMS keeps some values confidential).
    ///
    /// Throws `INVALID_CODE` for input that is not a CPT or HCPCS code.
    ///
    /// ```js
    /// book.mue('36415') // { code: '36415', mueValue: 2, adjudicationIndicator: 3, rationale: ... }
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn mue(&self, env: &Env, code: String) -> Result<Option<Mue>> {
        or_throw(env, self.book.mue(&code)).map(|m| m.map(Mue::from))
    }
}
