//! Python exceptions: one root class, `codelookup.CodeLookupError`, a subclass per kind of
//! core error, and the one conversion from [`codelookup::Error`] ([`to_py_err`]).
//!
//! | class | bases | core variants | attributes |
//! | --- | --- | --- | --- |
//! | `NotFound` | `CodeLookupError`, `LookupError` | `NotFound` | `code`, `suggestions` |
//! | `InvalidCode` | `CodeLookupError`, `ValueError` | `InvalidCode` | `input`, `reason` |
//! | `UnknownSystem` | `CodeLookupError`, `ValueError` | `UnknownSystem` | `system` |
//! | `InvalidArgument` | `CodeLookupError`, `ValueError` | `InvalidArgument` | |
//! | `NotValidOnDate` | `CodeLookupError`, `ValueError` | `NotValidOnDate` | `code`, `date`, `replaced_by` |
//! | `BookError` | `CodeLookupError` | `Book`, `Import` | |
//! | `QuotaExceeded` | `CodeLookupError` | `QuotaExceeded` | `subject`, `remaining`, `limit`, `reason` |
//! | `StorageError` | `CodeLookupError` | `Storage`, `Sqlite` | |
//! | `FileError` | `CodeLookupError`, `OSError` | `Io` | `path` |
//!
//! Every instance also has `kind`, the core's stable [`codelookup::Error::kind`] name
//! (`NOT_FOUND`, ...). `create_exception!` takes a single base, so the classes are made the
//! way it makes them (`PyErr::new_type`, i.e. `PyErr_NewExceptionWithDoc`), with a tuple of
//! bases where a class is also a built-in `ValueError`, `LookupError` or `OSError`.

use std::ffi::CStr;

use codelookup::Error;
use pyo3::exceptions::{PyException, PyLookupError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};
use pyo3::PyTypeInfo;

/// One exception class, created on first use and shared by every interpreter thread.
pub struct ExceptionClass {
    name: &'static CStr,
    doc: &'static CStr,
    bases: fn(Python<'_>) -> PyResult<Vec<Bound<'_, PyType>>>,
    cell: PyOnceLock<Py<PyType>>,
}

impl ExceptionClass {
    /// The class object.
    pub fn get<'py>(&'static self, py: Python<'py>) -> PyResult<&'py Bound<'py, PyType>> {
        let ty = self.cell.get_or_try_init(py, || {
            let bases = PyTuple::new(py, (self.bases)(py)?)?;
            let ptr = unsafe {
                // SAFETY: the name and doc are NUL-terminated statics, `bases` is a live tuple of
                // classes; the call returns a new reference or NULL with an exception set.
                pyo3::ffi::PyErr_NewExceptionWithDoc(self.name.as_ptr(), self.doc.as_ptr(), bases.as_ptr(), std::ptr::null_mut())
            };
            let obj = unsafe { Bound::from_owned_ptr_or_err(py, ptr)? };
            Ok::<_, PyErr>(obj.cast_into::<PyType>()?.unbind())
        })?;
        Ok(ty.bind(py))
    }

    /// A new exception of this class with `message`, before any attribute is set.
    fn new_instance<'py>(&'static self, py: Python<'py>, message: String, kind: &str) -> PyResult<Bound<'py, PyAny>> {
        let exc = self.get(py)?.call1((message,))?;
        exc.setattr("kind", kind)?;
        Ok(exc)
    }
}

macro_rules! exception {
    ($name:ident, $qualified:literal, [$($base:expr),+], $doc:literal) => {
        #[doc = $doc]
        pub static $name: ExceptionClass = ExceptionClass {
            name: cstr(concat!($qualified, "\0")),
            doc: cstr(concat!($doc, "\0")),
            bases: |py| Ok(vec![$($base(py)?),+]),
            cell: PyOnceLock::new(),
        };
    };
}

const fn cstr(s: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("exception names and docs are NUL-terminated literals"),
    }
}

fn builtin<T: PyTypeInfo>(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    Ok(T::type_object(py))
}

fn root(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    Ok(CODE_LOOKUP_ERROR.get(py)?.clone())
}

exception!(
    CODE_LOOKUP_ERROR,
    "codelookup.CodeLookupError",
    [builtin::<PyException>],
    "Base class of every error raised by codelookup. `kind` is a stable name of the error (NOT_FOUND, INVALID_CODE, ...)."
);
exception!(
    NOT_FOUND,
    "codelookup.NotFound",
    [root, builtin::<PyLookupError>],
    "A well-formed code that the book does not have. `code` is the input, `suggestions` the nearest real codes, best first."
);
exception!(
    INVALID_CODE,
    "codelookup.InvalidCode",
    [root, builtin::<PyValueError>],
    "Input that cannot be a code (of any system, or of the requested one). `input` is the input, `reason` why."
);
exception!(
    UNKNOWN_SYSTEM,
    "codelookup.UnknownSystem",
    [root, builtin::<PyValueError>],
    "A code system name that codelookup does not know (known: icd10cm, icd10pcs, hcpcs, cpt, local). `system` is the name."
);
exception!(
    INVALID_ARGUMENT,
    "codelookup.InvalidArgument",
    [root, builtin::<PyValueError>],
    "An argument out of range or inconsistent: a bad query, limit, plan or window, an empty subject, a reused request key..."
);
exception!(
    NOT_VALID_ON_DATE,
    "codelookup.NotValidOnDate",
    [root, builtin::<PyValueError>],
    "A code that exists but may not be used on a claim with this date of service (deleted, not yet valid, or a header). `code`, `date` (datetime.date) and `replaced_by`, the codes to use instead."
);
exception!(
    BOOK_ERROR,
    "codelookup.BookError",
    [root],
    "A code book file that is missing, corrupt, truncated or of a format this version cannot read."
);
exception!(
    QUOTA_EXCEEDED,
    "codelookup.QuotaExceeded",
    [root],
    "A metered view refused: the subject has no views left. `subject`, `remaining` (0), `limit` (None: unlimited) and `reason`, a sentence to show."
);
exception!(
    STORAGE_ERROR,
    "codelookup.StorageError",
    [root],
    "The quota store cannot be used: locked, read-only, corrupt, from a newer version, or closed."
);
exception!(FILE_ERROR, "codelookup.FileError", [root, builtin::<PyOSError>], "An I/O error on a file; `path` names it when known.");

/// Every class, for the module to export (name without the `codelookup.` prefix).
pub static ALL: [(&str, &ExceptionClass); 10] = [
    ("CodeLookupError", &CODE_LOOKUP_ERROR),
    ("NotFound", &NOT_FOUND),
    ("InvalidCode", &INVALID_CODE),
    ("UnknownSystem", &UNKNOWN_SYSTEM),
    ("InvalidArgument", &INVALID_ARGUMENT),
    ("NotValidOnDate", &NOT_VALID_ON_DATE),
    ("BookError", &BOOK_ERROR),
    ("QuotaExceeded", &QUOTA_EXCEEDED),
    ("StorageError", &STORAGE_ERROR),
    ("FileError", &FILE_ERROR),
];

/// A count argument (a page size, an offset, views): Python passes any `int`, and a negative one
/// is the core's `INVALID_ARGUMENT`, as in Node (not pyo3's `OverflowError`).
pub fn non_negative(name: &str, v: i64) -> PyResult<u64> {
    u64::try_from(v).map_err(|_| to_py_err(Error::InvalidArgument(format!("{name} must be 0 or more, not {v}"))))
}

/// Converts a core error into the matching Python exception, with its attributes set.
pub fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| build(py, err).unwrap_or_else(|e| e))
}

/// The one match from core errors to classes.
fn build(py: Python<'_>, err: Error) -> PyResult<PyErr> {
    let kind = err.kind();
    let message = err.to_string();
    let exc = match err {
        Error::NotFound { code, suggestions } => {
            let exc = NOT_FOUND.new_instance(py, message, kind)?;
            exc.setattr("code", code)?;
            exc.setattr("suggestions", suggestions)?;
            exc
        }
        Error::InvalidCode { input, reason } => {
            let exc = INVALID_CODE.new_instance(py, message, kind)?;
            exc.setattr("input", input)?;
            exc.setattr("reason", reason)?;
            exc
        }
        Error::UnknownSystem(system) => {
            let exc = UNKNOWN_SYSTEM.new_instance(py, message, kind)?;
            exc.setattr("system", system)?;
            exc
        }
        Error::InvalidArgument(_) => INVALID_ARGUMENT.new_instance(py, message, kind)?,
        Error::NotValidOnDate { code, date, message: _, replaced_by } => {
            let exc = NOT_VALID_ON_DATE.new_instance(py, message, kind)?;
            exc.setattr("code", code)?;
            exc.setattr("date", date)?;
            exc.setattr("replaced_by", replaced_by)?;
            exc
        }
        Error::Book(_) | Error::Import { .. } => BOOK_ERROR.new_instance(py, message, kind)?,
        Error::QuotaExceeded { subject, remaining, limit, message: reason } => {
            let exc = QUOTA_EXCEEDED.new_instance(py, message, kind)?;
            exc.setattr("subject", subject)?;
            exc.setattr("remaining", remaining)?;
            exc.setattr("limit", limit)?;
            exc.setattr("reason", reason)?;
            exc
        }
        Error::Storage(_) | Error::Sqlite(_) => STORAGE_ERROR.new_instance(py, message, kind)?,
        Error::Io { path, .. } => {
            let exc = FILE_ERROR.new_instance(py, message, kind)?;
            exc.setattr("path", path)?;
            exc
        }
        // `codelookup::Error` is `#[non_exhaustive]`: a variant added to the core after this
        // binding was written is still a `CodeLookupError`, with its stable `kind`.
        _ => CODE_LOOKUP_ERROR.new_instance(py, message, kind)?,
    };
    Ok(PyErr::from_value(exc))
}

/// `Result<T, codelookup::Error>` to `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Maps the error with [`to_py_err`].
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for codelookup::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}
