//! `Book.search`: find codes by code prefix or by words, and the `Hit` class it returns.

use chrono::NaiveDate;
use codelookup::search::{Hit, MatchField, SearchOptions};
use codelookup::System;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::book::{text, PyBook};
use crate::error::{non_negative, to_py_err, IntoPyResult};
use crate::record::{record_class, Convert, Pickle};

impl Convert for MatchField {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let name = match self {
            MatchField::Code => "code",
            MatchField::Title => "title",
            MatchField::ShortTitle => "short_title",
            MatchField::InclusionTerm => "inclusion_term",
            MatchField::Abbreviation => "abbreviation",
        };
        Ok(PyString::new(py, name).into_any())
    }
}

impl Pickle for Hit {
    fn pickle(&self, _class: &str) -> PyResult<String> {
        serde_json::to_string(self).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }
}

impl Convert for (usize, usize) {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.into_pyobject(py)?.into_any())
    }
}

impl Convert for u32 {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.into_pyobject(py)?.into_any())
    }
}

record_class!(
    /// One search result of `Book.search`.
    PyHit, "Hit", Hit,
    repr: [code, system, title, score],
    fields: {
        /// Canonical spelling (`E11.9`, `0DTJ4ZZ`, `J1100`).
        code,
        /// The code system.
        system,
        /// Official title.
        title,
        /// Whether the code is valid on a claim.
        billable,
        /// Relevance, higher is better: 1000 exact code, 900 code prefix, 400-490 every word
        /// matched exactly, 200-290 with one typo, 100-190 with more.
        score,
        /// Which field matched: `code`, `title`, `short_title`, `inclusion_term` or `abbreviation`.
        matched,
        /// The text the spans refer to: the code, title, short title or inclusion term.
        matched_text,
        /// Matched parts of `matched_text` as `(start, end)` string indices, sorted, not
        /// overlapping: `matched_text[start:end]` is a match.
        spans,
    }
);

/// `systems` as given: None, one name, or an iterable of names.
fn parse_systems(systems: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<System>> {
    let Some(systems) = systems else { return Ok(Vec::new()) };
    if let Ok(s) = systems.cast::<PyString>() {
        return Ok(vec![text(s).parse::<System>().py_err()?]);
    }
    let mut out = Vec::new();
    for item in systems.try_iter()? {
        let item = item?;
        let s = item.cast::<PyString>().map_err(|_| PyTypeError::new_err("systems must be a str or an iterable of str"))?;
        out.push(text(s).parse::<System>().py_err()?);
    }
    Ok(out)
}

/// `Book.search`, without the GIL while the index is searched.
#[allow(clippy::too_many_arguments)]
pub(crate) fn search<'py>(
    py: Python<'py>,
    book: &PyBook,
    query: &Bound<'py, PyString>,
    systems: Option<&Bound<'py, PyAny>>,
    billable: Option<bool>,
    limit: i64,
    offset: i64,
    range: Option<(String, String)>,
    chapter: Option<i64>,
    date: Option<NaiveDate>,
) -> PyResult<Bound<'py, PyList>> {
    let count = |name: &str, v: i64| non_negative(name, v).map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    let (limit, offset) = (count("limit", limit)?, count("offset", offset)?);
    let chapter = chapter
        .map(|c| u8::try_from(c).map_err(|_| to_py_err(codelookup::Error::InvalidArgument(format!("unknown chapter {c} (1 to 22)")))))
        .transpose()?;
    // `..Default::default()`: an option added to the core keeps its default here until bound.
    #[allow(clippy::needless_update)]
    let options = SearchOptions { systems: parse_systems(systems)?, billable, range, chapter, date, limit, offset, ..Default::default() };
    let query = text(query);
    let book = book.book();
    let hits = py.detach(|| book.search(&query, &options)).py_err()?;
    PyList::new(py, hits.into_iter().map(|h| Bound::new(py, PyHit::from(h))).collect::<PyResult<Vec<_>>>()?)
}

/// Adds the search classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyHit>()?;
    Ok(())
}
