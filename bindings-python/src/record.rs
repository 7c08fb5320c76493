//! What a lookup returns, as Python classes: `CodeRecord` and its parts (`CodeRef`, `Note`,
//! `SeventhCharacter`, `PcsAxis`, `HcpcsInfo`, `History`, `TitleChange`).
//!
//! Each class wraps the core struct and converts a field when it is read, so a lookup costs one
//! object however big the record; lists come back as new `list`s, systems and kinds as `str`,
//! dates as `datetime.date`. Objects are immutable, compare by value, show their main fields in
//! `repr`, give `to_dict()` (nested dicts and lists, the JSON field names of the CLI) and pickle
//! through their serde JSON form.

use chrono::{DateTime, NaiveDate, Utc};
use codelookup::code::{Key, System};
use codelookup::record::{
    CodeRecord, CodeRef, CodeStatus, HcpcsInfo, History, NodeKind, Note, NoteKind, Notes, PcsAxis, SeventhCharacter, TitleChange,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use pyo3::IntoPyObjectExt;

/// A core value as a Python value: `attr` for attributes (nested records as objects), `plain`
/// for `to_dict` (nested records as dicts).
pub trait Convert {
    /// The value of an attribute.
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
    /// The value in `to_dict()`.
    fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.attr(py)
    }
}

macro_rules! convert_as_is {
    ($($t:ty),*) => {$(
        impl Convert for $t {
            fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.into_bound_py_any(py)
            }
        }
    )*};
}

convert_as_is!(String, bool, u8, u16, u64, usize, NaiveDate, DateTime<Utc>);

macro_rules! convert_as_str {
    ($($t:ty),*) => {$(
        impl Convert for $t {
            fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(PyString::new(py, self.as_str()).into_any())
            }
        }
    )*};
}

convert_as_str!(System, NodeKind, NoteKind, Key);

/// Text shared with the book (`Arc<str>` through the impl for `Arc` below).
impl Convert for str {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
}

/// Parts shared with the book (texts, lists of parents, PCS axes) convert as what they hold.
impl<T: Convert + ?Sized> Convert for std::sync::Arc<T> {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (**self).attr(py)
    }
    fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (**self).plain(py)
    }
}

impl Convert for CodeStatus {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let name = match self {
            CodeStatus::Active => "active",
            CodeStatus::Deleted => "deleted",
        };
        Ok(PyString::new(py, name).into_any())
    }
}

impl<T: Convert> Convert for Option<T> {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.attr(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
    fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.plain(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

/// A new `list`.
fn list<'a, 'py, T: Convert + 'a>(py: Python<'py>, items: impl Iterator<Item = &'a T>, plain: bool) -> PyResult<Bound<'py, PyAny>> {
    let items = items.map(|v| if plain { v.plain(py) } else { v.attr(py) }).collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}

impl<T: Convert> Convert for [T] {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        list(py, self.iter(), false)
    }
    fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        list(py, self.iter(), true)
    }
}

impl<T: Convert> Convert for Vec<T> {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.as_slice().attr(py)
    }
    fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.as_slice().plain(py)
    }
}

impl Convert for Notes {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        list(py, self.iter(), false)
    }
    fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        list(py, self.iter(), true)
    }
}

/// How a wrapped core struct pickles: as its serde JSON, or not at all.
pub trait Pickle {
    /// The JSON form, or a `TypeError` saying why the class cannot be pickled.
    fn pickle(&self, class: &str) -> PyResult<String>;
}

macro_rules! pickle_as_json {
    ($($t:ty),*) => {$(
        impl $crate::record::Pickle for $t {
            fn pickle(&self, _class: &str) -> PyResult<String> {
                ::serde_json::to_string(self).map_err(|e| ::pyo3::exceptions::PyValueError::new_err(e.to_string()))
            }
        }
    )*};
}

pub(crate) use pickle_as_json;

pickle_as_json!(CodeRecord, CodeRef, Note, SeventhCharacter, PcsAxis, HcpcsInfo, History, TitleChange);

/// Defines a Python class wrapping a core record struct.
///
/// Every field of the struct must be listed: `to_dict` destructures the struct, so a field
/// added to the core does not compile here until it is exposed.
macro_rules! record_class {
    (
        $(#[doc = $doc:literal])*
        $py_ty:ident, $name:literal, $core:ident,
        repr: [$($repr:ident),*],
        fields: { $($(#[doc = $fdoc:literal])* $field:ident $(as $pyname:ident)?),* $(,)? }
        $(, methods: { $($extra:item)* })? $(,)?
    ) => {
        $(#[doc = $doc])*
        #[pyclass(module = "codelookup", name = $name, frozen, eq)]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $py_ty {
            pub(crate) inner: $core,
        }

        impl From<$core> for $py_ty {
            fn from(inner: $core) -> Self {
                Self { inner }
            }
        }

        impl $crate::record::Convert for $core {
            fn attr<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                Ok(::pyo3::Bound::new(py, $py_ty { inner: self.clone() })?.into_any())
            }
            fn plain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok($py_ty::dict_of(self, py)?.into_any())
            }
        }

        impl $py_ty {
            fn dict_of<'py>(inner: &$core, py: Python<'py>) -> PyResult<Bound<'py, ::pyo3::types::PyDict>> {
                let $core { $($field),* } = inner;
                let dict = ::pyo3::types::PyDict::new(py);
                $(dict.set_item(stringify!($field), $crate::record::Convert::plain($field, py)?)?;)*
                Ok(dict)
            }
        }

        #[pymethods]
        impl $py_ty {
            $(
                $(#[doc = $fdoc])*
                #[getter $(($pyname))?]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    $crate::record::Convert::attr(&self.inner.$field, py)
                }
            )*

            /// The fields as a dict (nested records as dicts, lists as lists), with the JSON
            /// field names of the CLI.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, ::pyo3::types::PyDict>> {
                Self::dict_of(&self.inner, py)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!("{}={}", stringify!($repr), $crate::record::Convert::attr(&self.inner.$repr, py)?.repr()?),
                )*];
                Ok(format!("{}({})", $name, parts.join(", ")))
            }

            /// Pickles through the JSON form of the record (quota results refuse: use `to_dict()`).
            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
                Ok(($crate::record::unpickler(py)?, ($name, $crate::record::Pickle::pickle(&self.inner, $name)?)))
            }

            $($($extra)*)?
        }
    };
}

pub(crate) use record_class;

record_class!(
    /// A reference to another entry of the book: a parent, a child.
    PyCodeRef, "CodeRef", CodeRef,
    repr: [code, title, kind],
    fields: {
        /// Canonical spelling (`E11`, `E08-E13`, `Chapter 4`).
        code,
        /// Official title.
        title,
        /// What kind of entry: `chapter`, `section`, `header`, `code` or `modifier`.
        kind,
        /// Whether it is valid on a claim.
        billable,
    }
);

record_class!(
    /// An instructional note of the ICD-10-CM tabular list, the code's own or inherited.
    PyNote, "Note", Note,
    repr: [kind, text, source],
    fields: {
        /// `inclusion_term`, `includes`, `excludes1`, `excludes2`, `code_first`,
        /// `use_additional_code`, `code_also`, `seven_chr_note`, `seven_chr_def` or `note`.
        kind,
        /// The note's text as printed.
        text,
        /// Where the note is printed: the code itself or an ancestor (`E11`, `E08-E13`, `Chapter 4`).
        source,
        /// True when the note is printed at an ancestor and applies by inheritance.
        inherited,
    }
);

record_class!(
    /// The meaning of the 7th character of an ICD-10-CM code.
    PySeventhCharacter, "SeventhCharacter", SeventhCharacter,
    repr: [character, meaning],
    fields: {
        /// The character (`A`).
        character,
        /// Its meaning (`initial encounter for closed fracture`).
        meaning,
        /// The code whose definitions apply (`S72`).
        source,
    }
);

record_class!(
    /// One of the seven characters of an ICD-10-PCS code, in plain language.
    PyPcsAxis, "PcsAxis", PcsAxis,
    repr: [position, name, value, label],
    fields: {
        /// 1 to 7.
        position,
        /// The axis name (`Body Part`, `Approach`...).
        name,
        /// The character at this position.
        value,
        /// What the character means here (`Appendix`).
        label,
        /// The official definition, where the book has one; else None.
        definition,
    }
);

record_class!(
    /// HCPCS Level II administrative data from the CMS quarterly file.
    PyHcpcsInfo, "HcpcsInfo", HcpcsInfo,
    repr: [added, terminated, action_code, coverage_code],
    fields: {
        /// Date the code was added (`datetime.date` or None).
        added,
        /// Date the latest action took effect.
        action_effective,
        /// The last date the code may be used; None for active codes.
        terminated,
        /// The action code (`A` add, `C` change, `D` discontinue, `N` no maintenance...).
        action_code,
        /// Medicare coverage code (`C`, `D`, `I`, `M`, `S`).
        coverage_code,
        /// Pricing indicators (`51` drugs...).
        pricing_indicators,
        /// Multiple pricing indicator.
        multiple_pricing_indicator,
        /// BETOS code.
        betos,
        /// CMS type of service codes.
        type_of_service,
        /// Cross-reference codes.
        cross_references,
        /// Processing note number.
        processing_note,
    }
);

record_class!(
    /// A title a code had from a date on.
    PyTitleChange, "TitleChange", TitleChange,
    repr: [from, title],
    fields: {
        /// First date the title applied (`datetime.date`); `from_` because `from` is a keyword
        /// (`to_dict()` has `"from"`).
        from as from_,
        /// The title.
        title,
    }
);

record_class!(
    /// Validity of a code over time.
    PyHistory, "History", History,
    repr: [status, valid_from, valid_until],
    fields: {
        /// `active` or `deleted`.
        status,
        /// First date of service on which the code was valid on a claim (`datetime.date` or None).
        valid_from,
        /// Last date of service on which it was valid; None while it still is.
        valid_until,
        /// ICD-10 fiscal years in which the code was valid on a claim.
        valid_fiscal_years,
        /// Earlier titles, oldest first (`TitleChange` objects).
        title_changes,
        /// Codes that replaced this one.
        replaced_by,
        /// Codes this one replaced.
        replaces,
    }
);

record_class!(
    /// Everything the book knows about one code of one system, as returned by `Book.lookup`.
    ///
    /// Immutable; equal when every field is equal; `to_dict()` gives plain dicts and lists.
    PyCodeRecord, "CodeRecord", CodeRecord,
    repr: [code, system, title],
    fields: {
        /// Canonical spelling (`E11.9`, `0DTJ4ZZ`, `J1100`).
        code,
        /// The code system: `icd10cm`, `icd10pcs`, `hcpcs`, `cpt` or `local`.
        system,
        /// What kind of entry: `header`, `code` or `modifier`.
        kind,
        /// Official long title.
        title,
        /// Official short title; equal to the title where the source has none.
        short_title,
        /// Whether the code is valid on a claim.
        billable,
        /// Ancestors (`CodeRef`) from the top (chapter or table) down to the direct parent.
        parents,
        /// Direct children (`CodeRef`).
        children,
        /// For a header: every billable code below it, in tabular order.
        billable_descendants,
        /// Instructional notes (`Note`): the code's own first, then inherited ones, nearest first.
        notes,
        /// For ICD-10-CM codes with a 7th character: its meaning (`SeventhCharacter`), else None.
        seventh_character,
        /// For ICD-10-PCS codes: the seven characters in plain language (`PcsAxis`).
        pcs_axes,
        /// For HCPCS codes: the administrative data (`HcpcsInfo`), else None.
        hcpcs,
        /// A plain-language description (the CPT consumer descriptor), where the source has one.
        description,
        /// CPT clinician descriptors, where the source has them.
        clinician_descriptors,
        /// Validity over time (`History`), where the book has it, else None.
        history,
        /// Other systems in which the same characters are also a code (`B20`: `["icd10pcs"]`).
        also_in,
    }
);

pub(crate) fn unpickler(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("codelookup._codelookup")?.getattr("_unpickle")
}

/// Rebuilds a pickled record (the target of the records' `__reduce__`).
#[pyfunction]
pub fn _unpickle(py: Python<'_>, class: String, json: String) -> PyResult<Py<PyAny>> {
    fn make<'py, C: serde::de::DeserializeOwned + Convert>(py: Python<'py>, json: &str) -> PyResult<Bound<'py, PyAny>> {
        let inner: C = serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("corrupt pickled record: {e}")))?;
        inner.attr(py)
    }
    let json = json.as_str();
    let obj = match class.as_str() {
        "CodeRecord" => make::<CodeRecord>(py, json)?,
        "CodeRef" => make::<CodeRef>(py, json)?,
        "Note" => make::<Note>(py, json)?,
        "SeventhCharacter" => make::<SeventhCharacter>(py, json)?,
        "PcsAxis" => make::<PcsAxis>(py, json)?,
        "HcpcsInfo" => make::<HcpcsInfo>(py, json)?,
        "History" => make::<History>(py, json)?,
        "TitleChange" => make::<TitleChange>(py, json)?,
        "Hit" => make::<codelookup::search::Hit>(py, json)?,
        "Validity" => make::<codelookup::book::history::Validity>(py, json)?,
        "ClaimCheck" => make::<codelookup::billing::ClaimCheck>(py, json)?,
        "PtpEdit" => make::<codelookup::billing::PtpEdit>(py, json)?,
        "MueResult" => make::<codelookup::billing::MueResult>(py, json)?,
        "Mue" => make::<codelookup::billing::Mue>(py, json)?,
        "Mapping" => make::<codelookup::crosswalk::Mapping>(py, json)?,
        other => return Err(PyValueError::new_err(format!("cannot unpickle a codelookup {other:?}"))),
    };
    Ok(obj.unbind())
}

/// Adds the record classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCodeRecord>()?;
    m.add_class::<PyCodeRef>()?;
    m.add_class::<PyNote>()?;
    m.add_class::<PySeventhCharacter>()?;
    m.add_class::<PyPcsAxis>()?;
    m.add_class::<PyHcpcsInfo>()?;
    m.add_class::<PyHistory>()?;
    m.add_class::<PyTitleChange>()?;
    m.add_function(wrap_pyfunction!(_unpickle, m)?)?;
    Ok(())
}
