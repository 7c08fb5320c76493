//! `Book.crosswalk`: ICD-9-CM ↔ ICD-10-CM with the General Equivalence Mappings, and the
//! `Mapping` class it returns.

use codelookup::crosswalk::{Direction, Mapping};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::book::{text, PyBook};
use crate::error::IntoPyResult;
use crate::record::{pickle_as_json, record_class};

pickle_as_json!(Mapping);

record_class!(
    /// One row of a General Equivalence Mapping (GEM): a source code and one target, with the
    /// flags decoded, as returned by `Book.crosswalk`.
    ///
    /// A source maps to one target (maybe approximately), to none (`no_map`), or, when
    /// `combination` is set, to several codes together: the targets are grouped by `scenario`
    /// (alternatives), and within a scenario one target is taken from each `choice_list`.
    PyMapping, "Mapping", Mapping,
    repr: [source, target, approximate],
    fields: {
        /// The source code, dotted (`250.00`, `E11.9`).
        source,
        /// The target code, dotted; None when the source has no map.
        target,
        /// The target is not an exact equivalent of the source.
        approximate,
        /// The source has no target code.
        no_map,
        /// The target is one part of a combination: several targets together express the source.
        combination,
        /// For a combination: which alternative set of targets (1-9); 0 otherwise.
        scenario,
        /// For a combination: which slot of the scenario this target fills (1-9); 0 otherwise.
        choice_list,
    }
);

/// `Book.crosswalk`.
pub(crate) fn crosswalk(book: &PyBook, code: &Bound<'_, PyString>, direction: &Bound<'_, PyString>) -> PyResult<Vec<PyMapping>> {
    let direction: Direction = text(direction).parse().py_err()?;
    Ok(book.book().crosswalk(&text(code), direction).py_err()?.into_iter().map(PyMapping::from).collect())
}

/// Adds the crosswalk class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMapping>()?;
    Ok(())
}
