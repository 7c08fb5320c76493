//! Billing checks with the NCCI edits: `Book.check_claim`, `Book.ptp_edits`, `Book.mue`, and
//! the classes they return (`ClaimCheck`, `PtpEdit`, `MueResult`, `Mue`).
//!
//! The binding reads claim lines (a `CODE[xUNITS][-MOD...]` string or a `(code, units[,
//! modifiers])` tuple) into core [`ClaimLine`]s; every check is the core's.

use codelookup::billing::{ClaimCheck, ClaimLine, Mue, MueResult, PtpEdit};
use codelookup::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyList, PyString, PyTuple};

use crate::book::{text, PyBook};
use crate::error::{to_py_err, IntoPyResult};
use crate::record::{pickle_as_json, record_class};
use crate::validity::date_arg;

pickle_as_json!(ClaimCheck, PtpEdit, MueResult, Mue);

record_class!(
    /// A procedure-to-procedure (PTP) edit of the NCCI between two codes of a claim (or of a
    /// list of codes): the column 2 code is denied when billed with the column 1 code, unless
    /// the edit is bypassed.
    PyPtpEdit, "PtpEdit", PtpEdit,
    repr: [column1, column2, modifier_indicator, bypassed],
    fields: {
        /// The column 1 code: eligible for payment.
        column1,
        /// The column 2 code: denied when billed with column 1, unless the edit is bypassed.
        column2,
        /// Index (from 0) of the claim line (or of the code in the list) holding column 1.
        column1_line,
        /// Index (from 0) of the claim line (or of the code in the list) holding column 2.
        column2_line,
        /// 0: never allowed together, no modifier bypasses the edit; 1: allowed with an NCCI
        /// PTP-associated modifier; 9: not applicable.
        modifier_indicator,
        /// Why the edit exists (`Mutually exclusive procedures`, ...).
        rationale,
        /// First date of service the edit applies to (`datetime.date`); None when the book's
        /// edits are undated (the default book).
        effective,
        /// The edit no longer applies on and after this date; None while active or when undated.
        deleted,
        /// Whether the lines' modifiers bypass the edit (always False from `Book.ptp_edits`).
        bypassed,
        /// The modifier that bypassed it, when one did.
        bypass_modifier,
    }
);

record_class!(
    /// A medically unlikely edit (MUE): the most units of service of a code per day under
    /// most circumstances, as returned by `Book.mue`.
    PyMue, "Mue", Mue,
    repr: [code, mue_value, adjudication_indicator],
    fields: {
        /// The code.
        code,
        /// The limit, in units of service.
        mue_value,
        /// 1: claim line edit (each line checked on its own); 2: date of service edit, policy
        /// (units of the day added up); 3: date of service edit, clinical.
        adjudication_indicator,
        /// Why the limit is what it is (`CMS Policy`, `Anatomic Consideration`, ...).
        rationale,
    }
);

record_class!(
    /// An MUE applied to a claim: one per line for adjudication indicator 1, one per code (its
    /// lines' units added up) for indicators 2 and 3.
    PyMueResult, "MueResult", MueResult,
    repr: [code, units, mue_value, exceeds],
    fields: {
        /// The code.
        code,
        /// Indices (from 0) of the claim lines counted.
        lines,
        /// Units counted.
        units,
        /// The limit.
        mue_value,
        /// 1 line edit, 2 date of service edit (policy), 3 date of service edit (clinical).
        adjudication_indicator,
        /// The MUE rationale.
        rationale,
        /// `units > mue_value`: the lines' units are denied.
        exceeds,
    }
);

record_class!(
    /// The result of checking a claim against the NCCI edits, as returned by `Book.check_claim`.
    PyClaimCheck, "ClaimCheck", ClaimCheck,
    repr: [clean, denied_lines, date_of_service],
    fields: {
        /// The date of service the claim was checked for (`datetime.date`), if given.
        date_of_service,
        /// Whether the book's PTP edits carry effective and deletion dates. False for the
        /// default book: its edits are undated, so every edit applies whatever the date.
        edits_dated,
        /// Every PTP edit in effect between two lines of the claim (`PtpEdit`), bypassed or
        /// not, in line order.
        ptp,
        /// Every MUE that applies to the claim's lines (`MueResult`), exceeded or not.
        mue,
        /// Indices (from 0) of the lines that would be denied, sorted, without repeats.
        denied_lines,
        /// No line is denied.
        clean,
    }
);

/// The type name of a Python object, for messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// One claim line: `"99213-25"` or `(code, units)` / `(code, units, modifiers)`, modifiers a
/// str or a list or tuple of str. `i` is the item's index, for messages.
fn claim_line(i: usize, item: &Bound<'_, PyAny>) -> PyResult<ClaimLine> {
    if let Ok(s) = item.cast::<PyString>() {
        return ClaimLine::parse(&text(s)).py_err();
    }
    let parts: Vec<Bound<'_, PyAny>> = if let Ok(t) = item.cast::<PyTuple>() {
        t.iter().collect()
    } else if let Ok(l) = item.cast::<PyList>() {
        l.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "check_claim(): line {i} is {}, expected a str like \"99213-25\" or a tuple (code, units[, modifiers])",
            type_name(item)
        )));
    };
    let wrong =
        |what: &str, obj: &Bound<'_, PyAny>| PyTypeError::new_err(format!("check_claim(): line {i}: {what}, not {}", type_name(obj)));
    if !(2..=3).contains(&parts.len()) {
        return Err(PyTypeError::new_err(format!(
            "check_claim(): line {i} has {} items, expected (code, units) or (code, units, modifiers)",
            parts.len()
        )));
    }
    let code = parts[0].cast::<PyString>().map_err(|_| wrong("the code must be a str", &parts[0]))?;
    let units = &parts[1];
    if !units.is_instance_of::<PyInt>() || units.is_instance_of::<PyBool>() {
        return Err(wrong("units must be an int", units));
    }
    let units: u32 = units
        .extract()
        .map_err(|_| to_py_err(Error::InvalidArgument(format!("line {i}: units {} are not a number from 1 to {}", units, u32::MAX))))?;
    let mut modifiers: Vec<String> = Vec::new();
    if let Some(m) = parts.get(2) {
        if let Ok(s) = m.cast::<PyString>() {
            modifiers.push(text(s).into_owned());
        } else if m.is_instance_of::<PyList>() || m.is_instance_of::<PyTuple>() {
            for x in m.try_iter()? {
                let x = x?;
                let s = x.cast::<PyString>().map_err(|_| wrong("modifiers must be str", &x))?;
                modifiers.push(text(s).into_owned());
            }
        } else {
            return Err(wrong("modifiers must be a list or tuple of str", m));
        }
    }
    ClaimLine::new(&text(code), units, &modifiers).py_err()
}

/// The items of an iterable argument that must not be one `str`.
fn items<'py>(method: &str, what: &str, obj: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!("{method}() takes an iterable of {what}, not one str")));
    }
    obj.try_iter()?.collect()
}

/// `Book.check_claim`: the lines are read with the GIL, checked without it.
pub(crate) fn check_claim(
    py: Python<'_>,
    book: &PyBook,
    lines: &Bound<'_, PyAny>,
    date: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyClaimCheck> {
    let lines =
        items("check_claim", "claim lines", lines)?.iter().enumerate().map(|(i, l)| claim_line(i, l)).collect::<PyResult<Vec<_>>>()?;
    let date = date.map(|d| date_arg("date", d)).transpose()?;
    let book = book.book();
    Ok(PyClaimCheck::from(py.detach(|| book.check_claim(&lines, date)).py_err()?))
}

/// `Book.ptp_edits`, without the GIL while the edits are searched.
pub(crate) fn ptp_edits(py: Python<'_>, book: &PyBook, codes: &Bound<'_, PyAny>) -> PyResult<Vec<PyPtpEdit>> {
    let items = items("ptp_edits", "codes", codes)?;
    let codes = items
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.cast::<PyString>()
                .map(|s| text(s).into_owned())
                .map_err(|_| PyTypeError::new_err(format!("ptp_edits(): item {i} is {}, expected str", type_name(c))))
        })
        .collect::<PyResult<Vec<String>>>()?;
    let book = book.book();
    let edits = py.detach(|| book.ptp_edits(&codes)).py_err()?;
    Ok(edits.into_iter().map(PyPtpEdit::from).collect())
}

/// `Book.mue`.
pub(crate) fn mue(book: &PyBook, code: &Bound<'_, PyString>) -> PyResult<Option<PyMue>> {
    Ok(book.book().mue(&text(code)).py_err()?.map(PyMue::from))
}

/// Adds the billing classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyClaimCheck>()?;
    m.add_class::<PyPtpEdit>()?;
    m.add_class::<PyMueResult>()?;
    m.add_class::<PyMue>()?;
    Ok(())
}
