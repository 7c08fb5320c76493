//! Codes on a date of service: `Book.validOn` and the `on` option of `Book.lookup` (the core's
//! [`codelookup::Book::valid_on`] and [`codelookup::Book::lookup_on`], in
//! `core/src/book/history.rs`), with the answer as a plain object. Dates are `"YYYY-MM-DD"`.

use codelookup::book::history as core;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::book::Book;
use crate::code::{parse_system, System};
use crate::error::or_throw;
use crate::record::{date, parse_date};

/// Why a code is or is not valid on a date of service: `valid`; `not_yet_valid` (`validFrom`
/// says when it became valid); `no_longer_valid` (`validUntil` says when it stopped,
/// `replacedBy` what to use instead); `not_billable` (a header such as a category or a PCS
/// table, or a modifier: never valid on its own on a claim).
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidityStatus {
    #[napi(value = "valid")]
    Valid,
    #[napi(value = "not_yet_valid")]
    NotYetValid,
    #[napi(value = "no_longer_valid")]
    NoLongerValid,
    #[napi(value = "not_billable")]
    NotBillable,
}

impl From<core::ValidityStatus> for ValidityStatus {
    fn from(s: core::ValidityStatus) -> ValidityStatus {
        match s {
            core::ValidityStatus::Valid => ValidityStatus::Valid,
            core::ValidityStatus::NotYetValid => ValidityStatus::NotYetValid,
            core::ValidityStatus::NoLongerValid => ValidityStatus::NoLongerValid,
            core::ValidityStatus::NotBillable => ValidityStatus::NotBillable,
        }
    }
}

/// What `Book.validOn` returns: whether a code may be used on a claim with a date of service,
/// and why. Dates are `"YYYY-MM-DD"`.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Validity {
    /// Canonical code (`M54.5`).
    pub code: String,
    /// Its code system.
    pub system: System,
    /// The date of service asked about.
    pub date: String,
    /// Whether the code may be used on a claim with that date of service.
    pub valid: bool,
    /// Why.
    pub status: ValidityStatus,
    /// First date of service on which the code was valid, if it ever was.
    pub valid_from: Option<String>,
    /// Last date of service on which it was valid; `null` while it still is.
    pub valid_until: Option<String>,
    /// Codes that replaced it.
    pub replaced_by: Vec<String>,
    /// A sentence for people (`"M54.5 was valid until 2021-09-30; replaced by M54.50, M54.51,
    /// M54.59"`).
    pub message: String,
}

impl From<core::Validity> for Validity {
    fn from(v: core::Validity) -> Validity {
        let core::Validity { code, system, date: on, valid, status, valid_from, valid_until, replaced_by, message } = v;
        Validity {
            code,
            system: system.into(),
            date: date(on),
            valid,
            status: status.into(),
            valid_from: valid_from.map(date),
            valid_until: valid_until.map(date),
            replaced_by,
            message,
        }
    }
}

#[napi]
impl Book {
    /// Whether a code may be used on a claim with the date of service `date` (`"YYYY-MM-DD"`),
    /// with the reason, the dates it was valid and what replaced it.
    ///
    /// ICD-10 validity follows the CMS code sets by fiscal year (October 1 to September 30)
    /// from 2015-10-01, when ICD-10 took effect on US claims, and mid-year additions (U07.1 on
    /// 2020-04-01); dates after the book's last fiscal year are judged by that year. HCPCS
    /// validity follows the added and termination dates.
    ///
    /// Throws `INVALID_CODE`, `NOT_FOUND` (as `lookup`), `INVALID_ARGUMENT` for a malformed
    /// date, `UNKNOWN_SYSTEM` for an unknown system. A code that is not valid that day is an
    /// answer (`valid: false`), not an error.
    ///
    /// ```js
    /// const v = book.validOn('M54.5', '2021-10-01')
    /// v.valid       // false
    /// v.status      // 'no_longer_valid'
    /// v.replacedBy  // ['M54.50', 'M54.51', 'M54.59']
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn valid_on(&self, env: &Env, code: String, date: String, system: Option<String>) -> Result<Validity> {
        or_throw(env, valid_on(&self.book, &code, &date, system.as_deref()))
    }
}

fn valid_on(book: &codelookup::Book, code: &str, date: &str, system: Option<&str>) -> codelookup::Result<Validity> {
    let on = parse_date(date)?;
    Ok(book.valid_on(code, parse_system(system)?, on)?.into())
}
