//! `codelookup.Book`: the compiled code book (`codelookup.open()`), lookups and validity.
//!
//! Records are immutable, so the binding keeps the Python object of each record it has built
//! (up to [`CACHE_CAPACITY`] per book) and hands the same object out again: a repeated lookup
//! costs a key normalisation and a hash probe, which keeps single lookups near the cost of a
//! `dict` and lets `lookup_many` over a claims column build each distinct record once.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use codelookup::{Book, Key, System};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString, PyTuple};

use crate::error::IntoPyResult;
use crate::quota::{PyDecision, PyQuota};
use crate::record::PyCodeRecord;

/// How many record objects (and, separately, title strings) a book keeps for reuse; when full,
/// a cache starts again empty.
pub const CACHE_CAPACITY: usize = 1 << 16;

/// An open code book. Safe to share between threads; every method may be called concurrently.
///
/// Open the embedded book with `codelookup.open()` or a book file with `codelookup.open(path)`
/// (`Book(path)` does the same).
#[pyclass(module = "codelookup", name = "Book", frozen)]
pub struct PyBook {
    book: Book,
    path: Option<PathBuf>,
    cache: Mutex<RecordCache>,
    titles: Mutex<TitleCache>,
}

type RecordCache = HashMap<u64, Py<PyCodeRecord>, BuildHasherDefault<PackedKeyHasher>>;
/// The `str` objects `Book.title` returned, by the same keys.
type TitleCache = HashMap<u64, Py<PyString>, BuildHasherDefault<PackedKeyHasher>>;

/// A cache key: the normalised code's seven bytes and the system filter packed in a `u64`
/// (normalised keys are ASCII letters and digits, so the zero padding cannot collide).
fn cache_key(key: &Key, system: Option<System>) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..key.as_bytes().len()].copy_from_slice(key.as_bytes());
    bytes[7] = system.map_or(0, |s| 1 + System::ALL.iter().position(|&a| a == s).unwrap_or(0) as u8);
    u64::from_le_bytes(bytes)
}

/// Hashes the packed `u64` keys with one multiplication (Fibonacci hashing).
#[derive(Default)]
struct PackedKeyHasher(u64);

impl Hasher for PackedKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
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

    fn cached(&self, py: Python<'_>, key: u64) -> Option<Py<PyCodeRecord>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key).map(|r| r.clone_ref(py))
    }

    fn remember(&self, entries: Vec<(u64, Py<PyCodeRecord>)>) {
        let evicted = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            let evicted = if cache.len() + entries.len() > CACHE_CAPACITY { std::mem::take(&mut *cache) } else { RecordCache::default() };
            cache.extend(entries.into_iter().take(CACHE_CAPACITY));
            evicted
        };
        // Dropped after the lock is released: releasing Python objects may run Python code.
        drop(evicted);
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
        Ok(PyBook { book: book.py_err()?, path, cache: Mutex::new(RecordCache::default()), titles: Mutex::new(TitleCache::default()) })
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
    /// `system`. Cost: a few microseconds the first time, then well under one (the record
    /// object is reused).
    #[pyo3(signature = (code, system=None))]
    fn lookup(&self, py: Python<'_>, code: &Bound<'_, PyString>, system: Option<&Bound<'_, PyString>>) -> PyResult<Py<PyCodeRecord>> {
        let system = parse_system(system)?;
        let code = text(code);
        let key = cache_key(&Key::parse_for(&code, system).py_err()?, system);
        if let Some(rec) = self.cached(py, key) {
            return Ok(rec);
        }
        let rec = Py::new(py, PyCodeRecord::from(self.book.lookup(&code, system).py_err()?))?;
        self.remember(vec![(key, rec.clone_ref(py))]);
        Ok(rec)
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
    /// raises `TypeError`. The GIL is released while the book is searched; each distinct code
    /// is looked up once and equal codes share one record object.
    #[pyo3(signature = (codes, system=None))]
    fn lookup_many<'py>(
        &self,
        py: Python<'py>,
        codes: &Bound<'py, PyAny>,
        system: Option<&Bound<'py, PyString>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let system = parse_system(system)?;
        let items = collect_codes(codes)?;
        let texts: Vec<Option<Cow<'_, str>>> = items.iter().map(|i| i.as_ref().map(text)).collect();

        // Normalise without the GIL: a cache key per item, None where the input is no code.
        let keys: Vec<Option<u64>> = py.detach(|| {
            texts.iter().map(|t| t.as_deref().and_then(|t| Key::parse_for(t, system).ok()).map(|k| cache_key(&k, system))).collect()
        });

        // Reuse the record objects already built; note each distinct missing key once.
        let mut out: Vec<Option<Py<PyCodeRecord>>> = Vec::with_capacity(keys.len());
        let mut missing: HashMap<u64, usize, BuildHasherDefault<PackedKeyHasher>> = HashMap::default();
        let mut to_find: Vec<(u64, &str)> = Vec::new();
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            for (i, key) in keys.iter().enumerate() {
                let found = key.and_then(|k| cache.get(&k)).map(|r| r.clone_ref(py));
                if let (None, Some(k)) = (&found, key) {
                    missing.entry(*k).or_insert_with(|| {
                        to_find.push((*k, texts[i].as_deref().unwrap_or_default()));
                        to_find.len() - 1
                    });
                }
                out.push(found);
            }
        }

        // Look the distinct new codes up without the GIL.
        let found: Vec<Option<codelookup::record::CodeRecord>> =
            py.detach(|| to_find.iter().map(|(_, code)| self.book.lookup(code, system).ok()).collect());
        let mut fresh: Vec<Option<Py<PyCodeRecord>>> = Vec::with_capacity(found.len());
        for rec in found {
            fresh.push(rec.map(|r| Py::new(py, PyCodeRecord::from(r))).transpose()?);
        }
        if !to_find.is_empty() {
            for (slot, key) in out.iter_mut().zip(&keys) {
                if let (None, Some(k)) = (&slot, key) {
                    if let Some(&j) = missing.get(k) {
                        *slot = fresh[j].as_ref().map(|r| r.clone_ref(py));
                    }
                }
            }
            self.remember(to_find.iter().zip(&fresh).filter_map(|((k, _), r)| r.as_ref().map(|r| (*k, r.clone_ref(py)))).collect());
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
    ) -> PyResult<Option<Py<PyString>>> {
        let system = parse_system(system)?;
        let code = text(code);
        let Ok(key) = Key::parse_for(&code, system) else { return Ok(None) };
        let key = cache_key(&key, system);
        if let Some(t) = self.titles.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(Some(t.clone_ref(py)));
        }
        let Some(title) = self.book.title(&code, system) else { return Ok(None) };
        let title = PyString::new(py, title).unbind();
        let evicted = {
            let mut titles = self.titles.lock().unwrap_or_else(PoisonError::into_inner);
            let evicted = if titles.len() >= CACHE_CAPACITY { std::mem::take(&mut *titles) } else { TitleCache::default() };
            titles.insert(key, title.clone_ref(py));
            evicted
        };
        drop(evicted);
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
        chapter: Option<u8>,
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
