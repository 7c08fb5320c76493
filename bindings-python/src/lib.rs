//! The Python binding of codelookup: the native module `codelookup._codelookup`, re-exported
//! by the `codelookup` package (`python/codelookup/__init__.py`).
//!
//! One file per core module (`book`, `record`, `search`, `quota`, `validity` for dates of
//! service, `billing`, `crosswalk`) plus `error`; the binding only converts arguments, results
//! and errors, and releases the GIL around work on the book index and the quota store.

mod billing;
mod book;
mod crosswalk;
mod error;
mod quota;
mod record;
mod search;
mod validity;

use std::path::PathBuf;

use pyo3::prelude::*;

use book::PyBook;

/// Opens a code book: the embedded default book when `path` is None, else a book file built by
/// `codelookup build`. Same as `Book(path)`; see `Book` for the methods.
#[pyfunction]
#[pyo3(signature = (path=None))]
fn open(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Py<PyBook>> {
    let cls = py.get_type::<PyBook>();
    Ok(cls.call1((path,))?.cast_into::<PyBook>()?.unbind())
}

#[pymodule]
fn _codelookup(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    for (name, class) in &error::ALL {
        m.add(*name, class.get(py)?)?;
    }
    m.add_class::<PyBook>()?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    record::register(m)?;
    quota::register(m)?;
    search::register(m)?;
    validity::register(m)?;
    billing::register(m)?;
    crosswalk::register(m)?;
    Ok(())
}
