//! Dates of service: `Book.valid_on` and its `Validity` class, `Book.lookup(code, on=date)`, and
//! the one reading of a date argument ([`date_arg`]) that the dated calls share.

use chrono::NaiveDate;
use codelookup::book::history::{Validity, ValidityStatus};
use codelookup::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyString};

use crate::book::{parse_system, text, PyBook};
use crate::error::{to_py_err, IntoPyResult};
use crate::record::{pickle_as_json, record_class, Convert, PyCodeRecord};

impl Convert for ValidityStatus {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // The serde (JSON) names.
        let name = match self {
            ValidityStatus::Valid => "valid",
            ValidityStatus::NotYetValid => "not_yet_valid",
            ValidityStatus::NoLongerValid => "no_longer_valid",
            ValidityStatus::NotBillable => "not_billable",
        };
        Ok(PyString::new(py, name).into_any())
    }
}

pickle_as_json!(Validity);

record_class!(
    /// Whether a code may be used on a claim with a given date of service, as returned by
    /// `Book.valid_on`: the reason, the dates it was valid and what replaced it.
    PyValidity, "Validity", Validity,
    repr: [code, date, valid, status],
    fields: {
        /// Canonical code (`M54.5`).
        code,
        /// Its system (`icd10cm`, `icd10pcs`, `hcpcs`, `cpt`, `local`).
        system,
        /// The date of service asked about (`datetime.date`).
        date,
        /// Whether the code may be used on a claim with that date of service.
        valid,
        /// Why: `valid`, `not_yet_valid`, `no_longer_valid` or `not_billable` (a header or
        /// modifier, never valid on its own on a claim).
        status,
        /// First date of service on which the code was valid (`datetime.date`), if it ever was.
        valid_from,
        /// Last date of service on which it was valid; None while it still is.
        valid_until,
        /// Codes that replaced it.
        replaced_by,
        /// A sentence for people (`M54.5 was valid until 2021-09-30; replaced by M54.50, ...`).
        message,
    }
);

/// Reads a date argument: a `datetime.date` (a `datetime.datetime` counts by its date, as in
/// `search(date=...)`) or an ISO `YYYY-MM-DD` string, as read from a CSV file. Other types raise
/// `TypeError` naming `name`; a malformed string raises `InvalidArgument`.
pub(crate) fn date_arg(name: &str, value: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    if let Ok(s) = value.cast::<PyString>() {
        let s = text(s);
        let t = s.trim();
        let shape = t.len() == 10 && t.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        return shape.then(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()).flatten().ok_or_else(|| {
            let shown: String = t.chars().take(40).collect();
            to_py_err(Error::InvalidArgument(format!("{name} {shown:?} is not a date in the form YYYY-MM-DD")))
        });
    }
    if value.is_instance_of::<PyDate>() {
        return value.extract::<NaiveDate>();
    }
    let ty = value.get_type().name()?;
    Err(PyTypeError::new_err(format!("{name} must be a datetime.date or an ISO date str (YYYY-MM-DD), not {ty}")))
}

/// `Book.valid_on`.
pub(crate) fn valid_on(
    book: &PyBook,
    code: &Bound<'_, PyString>,
    date: &Bound<'_, PyAny>,
    system: Option<&Bound<'_, PyString>>,
) -> PyResult<PyValidity> {
    let system = parse_system(system)?;
    let date = date_arg("date", date)?;
    Ok(PyValidity::from(book.book().valid_on(&text(code), system, date).py_err()?))
}

/// `Book.lookup(code, system, on=date)`: the core's dated lookup, which raises `NotValidOnDate`
/// for a code not valid that day. It does not go through the book's record cache, which knows
/// nothing of dates.
pub(crate) fn lookup_on(
    book: &PyBook,
    code: &Bound<'_, PyString>,
    system: Option<codelookup::System>,
    on: &Bound<'_, PyAny>,
) -> PyResult<PyCodeRecord> {
    let date = date_arg("on", on)?;
    Ok(PyCodeRecord::from(book.book().lookup_on(&text(code), system, date).py_err()?))
}

/// Adds the date-of-service classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyValidity>()?;
    Ok(())
}
