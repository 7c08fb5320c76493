//! `codelookup.Book`: the compiled code book (`codelookup.open()`), lookups and validity.
//!
//! Records are immutable, so the binding keeps the Python object of each record it has built
//! (up to [`CACHE_CAPACITY`] per book and system filter) and hands the same object out again.
//! The caches are Python dicts keyed by the caller's exact spelling of the code: they assume
//! nothing about how the core reads a spelling (which system a dot or a letter points to), only
//! that the same text and system give the same answer, and a repeated lookup costs one dict
//! probe of a `str` whose hash Python has already computed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;

use codelookup::record::CodeRecord;
use codelookup::{Book, System};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString, PyTuple};

use crate::error::IntoPyResult;
use crate::quota::{PyDecision, PyQuota};
use crate::record::PyCodeRecord;

/// How many record objects (and, separately, title strings) a book keeps for reuse per system
/// filter; when full, a cache starts again empty.
pub const CACHE_CAPACITY: usize = 1 << 16;

/// An open code book. Safe to share between threads; every method may be called concurrently.
///
/// Open the embedded book with `codelookup.open()` or a book file with `codelookup.open(path)`
/// (`Book(path)` does the same).
#[pyclass(module = "codelookup", name = "Book", frozen)]
pub struct PyBook {
    book: Book,
    path: Option<PathBuf>,
    /// Per system filter ([`slot`]): the exact `str` passed to `lookup` -> its `CodeRecord`.
    records: Vec<Py<PyDict>>,
    /// Per system filter: the exact `str` passed to `title` -> the title `str`.
    titles: Vec<Py<PyDict>>,
}

/// The cache of a system filter: 0 for none, then one per system.
fn slot(system: Option<System>) -> usize {
    system.map_or(0, |s| 1 + System::ALL.iter().position(|&a| a == s).unwrap_or(0))
}

fn new_caches(py: Python<'_>) -> Vec<Py<PyDict>> {
    (0..=System::ALL.len()).map(|_| PyDict::new(py).unbind()).collect()
}

/// Stores `value` under `key`, starting the cache afresh when it is full.
fn remember(cache: &Bound<'_, PyDict>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.set_item(key, value)
}

#[cfg(not(windows))]
extern "C" {
    // In the C API of every CPython 3.x, but in the limited API only from 3.10; this wheel
    // targets 3.9+, so it is declared here (not on Windows, where abi3 modules link to
    // python3.dll, which exports only the limited API).
    fn PyUnicode_AsUTF8AndSize(unicode: *mut pyo3::ffi::PyObject, size: *mut pyo3::ffi::Py_ssize_t) -> *const std::os::raw::c_char;
}

/// The text of a Python `str`, borrowed from the string's cached UTF-8 form when possible
/// (no copy). Lone surrogates, which no code contains, become U+FFFD.
pub(crate) fn text<'a>(s: &'a Bound<'_, PyString>) -> Cow<'a, str> {
    #[cfg(not(windows))]
    {
        let mut size: pyo3::ffi::Py_ssize_t = 0;
        // SAFETY: `s` is a live `str`; on success CPython returns a pointer to `size` bytes of
        // UTF-8 owned by the string object, which is immutable and outlives the borrow of `s`.
        let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
        if !data.is_null() {
            let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size as usize) };
            return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        // A UnicodeEncodeError is set (lone surrogates): clear it and fall back.
        drop(PyErr::take(s.py()));
    }
    s.to_string_lossy()
}

/// Parses the optional `system` argument.
pub(crate) fn parse_system(system: Option<&Bound<'_, PyString>>) -> PyResult<Option<System>> {
    system.map(|s| text(s).parse::<System>().py_err()).transpose()
}

impl PyBook {
    pub(crate) fn book(&self) -> &Book {
        &self.book
    }
}

#[pymethods]
impl PyBook {
    /// Opens a code book: the embedded default book (ICD-10-CM, ICD-10-PCS, HCPCS Level II)
    /// when `path` is None, else a book file built by `codelookup build` (plain or `.zst`).
    ///
    /// The embedded book is loaded once per process (about 0.3 s) and shared; a file is read
    /// into memory, after which no call does any I/O. The GIL is released while loading.
    /// Raises `BookError` for a missing, corrupt or incompatible file.
    #[new]
    #[pyo3(signature = (path=None))]
    fn new(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Self> {
        let book = py.detach(|| match &path {
            Some(p) => Book::open(p),
            None => Book::open_default(),
        });
        Ok(PyBook { book: book.py_err()?, path, records: new_caches(py), titles: new_caches(py) })
    }

    /// The book file this book was opened from; None for the embedded book.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.path.clone()
    }

    /// Looks a code up in any common spelling (`e119`, `E11.9`, ` E11.9 `) and returns its
    /// `CodeRecord`.
    ///
    /// With `system` (`icd10cm`, `icd10pcs`, `hcpcs`, `cpt`, `local`), only that system is
    /// searched; without, the first system that has the code answers and `also_in` names the
    /// others. Raises `InvalidCode` for input that cannot be a code, `NotFound` (with
    /// `suggestions`) for a well-formed code the book does not have, `UnknownSystem` for a bad
    /// `system`. Cost: a few microseconds the first time, then one dict probe (the record
    /// object is reused).
    ///
    /// With `on`, a date of service (a `datetime.date` or an ISO `"YYYY-MM-DD"` str), the code
    /// must also be valid on a claim that day: else `NotValidOnDate` is raised (`date`,
    /// `replaced_by`; see `valid_on` for the reason). A malformed date string raises
    /// `InvalidArgument`, another type `TypeError`.
    #[pyo3(signature = (code, system=None, *, on=None))]
    fn lookup(
        &self,
        py: Python<'_>,
        code: &Bound<'_, PyString>,
        system: Option<&Bound<'_, PyString>>,
        on: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyCodeRecord>> {
        let system = parse_system(system)?;
        if let Some(on) = on {
            // Dated: the core decides each time; the cache knows nothing of dates.
            return Py::new(py, crate::validity::lookup_on(self, code, system, on)?);
        }
        let cache = self.records[slot(system)].bind(py);
        if let Some(rec) = cache.get_item(code)? {
            return Ok(rec.cast_into::<PyCodeRecord>()?.unbind());
        }
        let rec = Bound::new(py, PyCodeRecord::from(self.book.lookup(&text(code), system).py_err()?))?;
        remember(cache, code, &rec)?;
        Ok(rec.unbind())
    }

    /// Like `lookup`, but returns a list with one record for each system that has the code
    /// (`B20` is an ICD-10-CM category and an ICD-10-PCS table).
    #[pyo3(signature = (code, system=None))]
    fn lookup_all(
        &self,
        py: Python<'_>,
        code: &Bound<'_, PyString>,
        system: Option<&Bound<'_, PyString>>,
    ) -> PyResult<Vec<Py<PyCodeRecord>>> {
        let system = parse_system(system)?;
        let recs = self.book.lookup_all(&text(code), system).py_err()?;
        recs.into_iter().map(|r| Py::new(py, PyCodeRecord::from(r))).collect()
    }

    /// Looks many codes up: returns a list with one entry per input, in order, the
    /// `CodeRecord` or None where the code is malformed, unknown or missing.
    ///
    /// `codes` is any iterable of `str`: a list, a tuple, a generator, a pandas `Series` or a
    /// numpy array. Missing values (None, NaN, `pandas.NA`) give None; any other non-`str` item
    /// raises `TypeError`. The GIL is released while the book is searched; each distinct
    /// spelling is looked up once and shares one record object.
    #[pyo3(signature = (codes, system=None))]
    fn lookup_many<'py>(
        &self,
        py: Python<'py>,
        codes: &Bound<'py, PyAny>,
        system: Option<&Bound<'py, PyString>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let system = parse_system(system)?;
        let items = collect_codes(codes)?;
        let cache = self.records[slot(system)].bind(py);

        // Reuse the record objects already built; note each distinct new spelling once.
        let mut out: Vec<Option<Bound<'py, PyAny>>> = Vec::with_capacity(items.len());
        let mut distinct: HashMap<Cow<'_, str>, usize> = HashMap::new();
        let mut to_find: Vec<Cow<'_, str>> = Vec::new();
        let mut keys: Vec<&Bound<'py, PyString>> = Vec::new();
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let found = match item {
                Some(s) => cache.get_item(s)?,
                None => None,
            };
            if let (None, Some(s)) = (&found, item) {
                let t = text(s);
                let j = *distinct.entry(t.clone()).or_insert_with(|| {
                    to_find.push(t);
                    keys.push(s);
                    keys.len() - 1
                });
                pending.push((i, j));
            }
            out.push(found);
        }

        // Look the new codes up without the GIL.
        let book = &self.book;
        let found: Vec<Option<CodeRecord>> = py.detach(|| to_find.iter().map(|t| book.lookup(t, system).ok()).collect());
        let mut fresh: Vec<Option<Bound<'py, PyAny>>> = Vec::with_capacity(found.len());
        for (key, rec) in keys.into_iter().zip(found) {
            let obj = rec.map(|r| Bound::new(py, PyCodeRecord::from(r))).transpose()?.map(Bound::into_any);
            if let Some(obj) = &obj {
                remember(cache, key, obj)?;
            }
            fresh.push(obj);
        }
        for (i, j) in pending {
            out[i] = fresh[j].clone();
        }
        PyList::new(py, out)
    }

    /// The official long title of a code, or None when the code is malformed or unknown:
    /// the fast path for "describe this code" (no record is built, and the `str` of a code
    /// already described is reused). `system` as in `lookup`.
    #[pyo3(signature = (code, system=None))]
    fn title<'py>(
        &self,
        py: Python<'py>,
        code: &Bound<'py, PyString>,
        system: Option<&Bound<'py, PyString>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let system = parse_system(system)?;
        let cache = self.titles[slot(system)].bind(py);
        if let Some(title) = cache.get_item(code)? {
            return Ok(Some(title));
        }
        let Some(title) = self.book.title(&text(code), system) else { return Ok(None) };
        let title = PyString::new(py, &title).into_any();
        remember(cache, code, &title)?;
        Ok(Some(title))
    }

    /// Whether the code (in any spelling) is in the book, billable or not. Never raises for a
    /// malformed code (it is simply not valid); raises `UnknownSystem` for a bad `system`.
    #[pyo3(signature = (code, system=None))]
    fn is_valid(&self, code: &Bound<'_, PyString>, system: Option<&Bound<'_, PyString>>) -> PyResult<bool> {
        Ok(self.book.is_valid(&text(code), parse_system(system)?))
    }

    /// Whether the code is in the book and valid on a claim (billable).
    #[pyo3(signature = (code, system=None))]
    fn is_billable(&self, code: &Bound<'_, PyString>, system: Option<&Bound<'_, PyString>>) -> PyResult<bool> {
        Ok(self.book.is_billable(&text(code), parse_system(system)?))
    }

    /// Whether the code may be used on a claim with the date of service `date` (a
    /// `datetime.date` or an ISO `"YYYY-MM-DD"` str), as a `Validity`: `valid`, `status`
    /// (`valid`, `not_yet_valid`, `no_longer_valid`, `not_billable`), the dates it was valid,
    /// what replaced it and a `message` to show.
    ///
    /// ICD-10 codes follow the CMS fiscal-year files (none is valid before 2015-10-01; dates
    /// after the book's last year are judged by that year), HCPCS codes their added and
    /// termination dates. Raises like `lookup` for a malformed or unknown code,
    /// `InvalidArgument` for a malformed date string, `TypeError` for another type of date.
    #[pyo3(signature = (code, date, system=None))]
    fn valid_on(
        &self,
        code: &Bound<'_, PyString>,
        date: &Bound<'_, PyAny>,
        system: Option<&Bound<'_, PyString>>,
    ) -> PyResult<crate::validity::PyValidity> {
        crate::validity::valid_on(self, code, date, system)
    }

    /// Checks a claim's lines against the NCCI edits and returns a `ClaimCheck`: every
    /// procedure-to-procedure edit between two lines (`ptp`, with whether the modifiers bypass
    /// it), every medically unlikely edit (`mue`, with whether the units exceed it), the
    /// `denied_lines` and whether the claim is `clean`.
    ///
    /// `lines` is an iterable of claim lines for one patient, provider and day, each a str
    /// `CODE[xUNITS][-MOD...]` (`"99213-25"`, `"36415x2"`, `"20610x2-RT-59"`) or a tuple
    /// `(code, units)` / `(code, units, modifiers)` with modifiers a list of str. `date`, the
    /// date of service (a `datetime.date` or an ISO str), selects the edits in effect that day
    /// when the book's edits are dated (`edits_dated`; the default book's are not). Raises
    /// `InvalidCode` for a code that is not CPT or HCPCS, `InvalidArgument` for bad units or
    /// modifiers, `TypeError` (naming the line) for an item of another type. The GIL is
    /// released while checking.
    #[pyo3(signature = (lines, *, date=None))]
    fn check_claim(
        &self,
        py: Python<'_>,
        lines: &Bound<'_, PyAny>,
        date: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<crate::billing::PyClaimCheck> {
        crate::billing::check_claim(py, self, lines, date)
    }

    /// Every NCCI procedure-to-procedure edit between two of `codes` (an iterable of CPT or
    /// HCPCS codes billed together), whatever its dates and modifier indicator, as a list of
    /// `PtpEdit` (`column1_line` and `column2_line` index `codes`). Raises `InvalidCode` for a
    /// code that is not CPT or HCPCS. The GIL is released while searching.
    fn ptp_edits(&self, py: Python<'_>, codes: &Bound<'_, PyAny>) -> PyResult<Vec<crate::billing::PyPtpEdit>> {
        crate::billing::ptp_edits(py, self, codes)
    }

    /// The medically unlikely edit of a CPT or HCPCS code (`Mue`: the most units per day), or
    /// None when it has none. Raises `InvalidCode` for input that is not a CPT or HCPCS code.
    fn mue(&self, code: &Bound<'_, PyString>) -> PyResult<Option<crate::billing::PyMue>> {
        crate::billing::mue(self, code)
    }

    /// Crosses a diagnosis code between ICD-9-CM and ICD-10-CM with the 2018 General
    /// Equivalence Mappings: a list of `Mapping`, one per GEM row of the code.
    ///
    /// `direction` is `icd9_to_icd10` or `icd10_to_icd9` (also `9to10`, `10to9`, `icd9`,
    /// `icd10`). Raises `InvalidArgument` for another direction, `InvalidCode` for input that
    /// is not a code of the source system, `NotFound` (with `suggestions`) when the GEM has no
    /// row for it (a header such as `E11`, or a code created after 2018).
    fn crosswalk(&self, code: &Bound<'_, PyString>, direction: &Bound<'_, PyString>) -> PyResult<Vec<crate::crosswalk::PyMapping>> {
        crate::crosswalk::crosswalk(self, code, direction)
    }

    /// The code systems this book holds (`["icd10cm", "icd10pcs", "hcpcs"]`).
    #[getter]
    fn systems(&self) -> Vec<&'static str> {
        self.book.systems().into_iter().map(System::as_str).collect()
    }

    /// Metadata of the book: format version, source files and their SHA-256 checksums.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in self.book.metadata() {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    /// Every code of the book as `(system, code)` tuples, in tabular order (chapters and
    /// sections are not codes).
    fn codes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let codes: Vec<(System, String)> = py.detach(|| self.book.codes().collect());
        let items = codes.into_iter().map(|(s, c)| PyTuple::new(py, [PyString::new(py, s.as_str()), PyString::new(py, &c)]));
        PyList::new(py, items.collect::<PyResult<Vec<_>>>()?)
    }

    /// Searches the book by code, code prefix or words, as a coder types; returns a list of
    /// `Hit`, best first.
    ///
    /// A query that looks like a code (`e116`, `0DTJ`) lists that code and the codes it
    /// begins; words match titles, short titles and inclusion terms (every word must match,
    /// the last also as a prefix), with abbreviations (`chf`) and typos (`hypertenson`).
    /// `systems` keeps only these systems (a name or a list), `billable` only billable (True)
    /// or non-billable (False) codes, `range=("E08", "E13")` only codes in that range,
    /// `chapter` only one ICD-10-CM chapter (1-22), `date` (a `datetime.date`) only codes valid
    /// on a claim with that date of service; `limit` (at most 1000) and `offset` (at
    /// most 10000) page the hits. Raises `InvalidArgument` for out-of-range options or an
    /// overlong query. The GIL is released while searching.
    #[pyo3(signature = (query, *, systems=None, billable=None, limit=20, offset=0, range=None, chapter=None, date=None))]
    #[allow(clippy::too_many_arguments)]
    fn search<'py>(
        &self,
        py: Python<'py>,
        query: &Bound<'py, PyString>,
        systems: Option<&Bound<'py, PyAny>>,
        billable: Option<bool>,
        limit: i64,
        offset: i64,
        range: Option<(String, String)>,
        chapter: Option<i64>,
        date: Option<chrono::NaiveDate>,
    ) -> PyResult<Bound<'py, PyList>> {
        crate::search::search(py, self, query, systems, billable, limit, offset, range, chapter, date)
    }

    /// Looks `code` up and charges `subject` one view of it on `quota` (a `Quota`): the call
    /// behind a metered code page. Returns `(record, decision)`.
    ///
    /// A malformed or unknown code raises (`InvalidCode`, `NotFound`) and costs no view; every
    /// spelling of a code is the same unlock (the view is recorded under the canonical code). A
    /// denied view raises `QuotaExceeded` (`remaining`, `limit`, `reason`). The GIL is released.
    #[pyo3(signature = (quota, subject, code, *, system=None, request_key=None))]
    fn view_code(
        &self,
        py: Python<'_>,
        quota: &Bound<'_, PyQuota>,
        subject: String,
        code: &Bound<'_, PyString>,
        system: Option<&Bound<'_, PyString>>,
        request_key: Option<String>,
    ) -> PyResult<(PyCodeRecord, PyDecision)> {
        crate::quota::view_code(py, self, quota, subject, code, system, request_key)
    }

    fn __repr__(&self) -> String {
        match &self.path {
            Some(p) => format!("codelookup.open({:?})", p.display().to_string()),
            None => "codelookup.open()".to_string(),
        }
    }

    /// Pickles as "open the same book again" (the embedded book, or the same path).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let cls = py.get_type::<PyBook>().into_any();
        let args = match &self.path {
            Some(p) => PyTuple::new(py, [p.clone()])?,
            None => PyTuple::empty(py),
        };
        Ok((cls, args))
    }
}

/// The items of `codes`: a `str` per code, None for missing values (None, NaN, pandas.NA).
fn collect_codes<'py>(codes: &Bound<'py, PyAny>) -> PyResult<Vec<Option<Bound<'py, PyString>>>> {
    if codes.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("lookup_many() takes an iterable of codes, not one str; use lookup() for one code"));
    }
    // numpy arrays and pandas Series/Index: tolist() gives the str objects without the cost of
    // iterating the container from Python.
    let list;
    let codes = if !codes.is_instance_of::<PyList>() && !codes.is_instance_of::<PyTuple>() && codes.hasattr("tolist")? {
        list = codes.call_method0("tolist")?;
        &list
    } else {
        codes
    };
    let mut out = Vec::with_capacity(codes.len().unwrap_or(0));
    for (i, item) in codes.try_iter()?.enumerate() {
        let item = item?;
        match item.cast_into::<PyString>() {
            Ok(s) => out.push(Some(s)),
            Err(e) => {
                let item = e.into_inner();
                if !is_missing(&item)? {
                    let ty = item.get_type().name()?;
                    return Err(PyTypeError::new_err(format!(
                        "lookup_many(): item {i} is {ty}, expected str (or None for a missing code)"
                    )));
                }
                out.push(None);
            }
        }
    }
    Ok(out)
}

/// None, a float NaN, or pandas' `NA`.
fn is_missing(item: &Bound<'_, PyAny>) -> PyResult<bool> {
    if item.is_none() {
        return Ok(true);
    }
    if let Ok(f) = item.cast::<PyFloat>() {
        return Ok(f.value().is_nan());
    }
    let ty = item.get_type();
    Ok(ty.name()? == "NAType" && ty.module()?.to_cow()?.starts_with("pandas"))
}
