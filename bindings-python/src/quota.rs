//! `codelookup.Quota`: metered code page views, persistent in SQLite, exact across threads and
//! processes; `Plan` to define plans; `Decision`, `Usage` and `LedgerEntry` results; and
//! `Book.view_code`, the lookup-and-charge of a code page.
//!
//! Every call that touches the store releases the GIL.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use codelookup::quota::{
    Decision, LedgerEntry, Plan, Plans, Quota, SqliteOptions, SqliteStore, Synchronous, SystemClock, Usage, ViewRequest, Window,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::book::{parse_system, text, PyBook};
use crate::error::{non_negative, to_py_err, IntoPyResult};
use crate::record::{record_class, Pickle, PyCodeRecord};

impl Pickle for Decision {
    fn pickle(&self, class: &str) -> PyResult<String> {
        refuse(class)
    }
}
impl Pickle for Usage {
    fn pickle(&self, class: &str) -> PyResult<String> {
        refuse(class)
    }
}
impl Pickle for LedgerEntry {
    fn pickle(&self, class: &str) -> PyResult<String> {
        refuse(class)
    }
}

fn refuse(class: &str) -> PyResult<String> {
    Err(PyTypeError::new_err(format!("codelookup.{class} cannot be pickled; pickle its to_dict() instead")))
}

record_class!(
    /// The answer to `Quota.view`: whether the subject may see the code page, and what to tell it.
    PyDecision, "Decision", Decision,
    repr: [subject, code, allowed, charged, used, remaining],
    fields: {
        /// The subject, as passed.
        subject,
        /// The code, as passed (canonical for `Book.view_code`).
        code,
        /// Whether the page may be shown.
        allowed,
        /// Whether this view used up one view (False for denials and free re-views).
        charged,
        /// Whether this is the recorded decision of an earlier call with the same request key.
        replayed,
        /// Views used in the current window, this one included.
        used,
        /// Views left in the current window (None: unlimited).
        remaining,
        /// Views allowed in the current window, grants included (None: unlimited).
        limit,
        /// The subject's plan.
        plan,
        /// When the window resets (`datetime.datetime` in UTC; None for lifetime windows).
        reset_at,
        /// A sentence the host can show ("0 code page views remaining. Register to get 5 more views.").
        reason,
    },
    methods: {
        /// Returns the decision when the view is allowed; raises `QuotaExceeded` (with
        /// `remaining`, `limit` and `reason`) when it is denied.
        fn raise_if_denied(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<Self>> {
            slf.get().inner.clone().into_result().py_err()?;
            Ok(slf.clone_ref(py))
        }
    }
);

record_class!(
    /// A subject's counters now, from `Quota.usage` and the admin calls.
    PyUsage, "Usage", Usage,
    repr: [subject, plan, used, limit, remaining],
    fields: {
        /// The subject.
        subject,
        /// Its plan.
        plan,
        /// Views used in the current window.
        used,
        /// Views allowed in the current window, grants included (None: unlimited).
        limit,
        /// Views granted in the current window on top of the plan's limit.
        granted,
        /// Views left (None: unlimited).
        remaining,
        /// When the window resets (`datetime.datetime` in UTC; None for lifetime windows).
        reset_at,
        /// The number of the current window.
        epoch,
    }
);

record_class!(
    /// One row of a subject's ledger: one decided view.
    PyLedgerEntry, "LedgerEntry", LedgerEntry,
    repr: [seq, code, allowed, charged, used],
    fields: {
        /// Position in the subject's ledger (1, 2, 3...), in commit order.
        seq,
        /// When the view was decided (`datetime.datetime` in UTC).
        at,
        /// The window number the view was decided in.
        epoch,
        /// The code viewed.
        code,
        /// The request key of the call, if it had one.
        request_key,
        /// Whether the view was allowed.
        allowed,
        /// Whether the view was charged.
        charged,
        /// The plan at the time.
        plan,
        /// Views used after this view.
        used,
        /// The limit at the time (None: unlimited).
        limit,
        /// Views left after this view (None: unlimited).
        remaining,
    }
);

/// A plan: how many code page views a subject on it may use per window.
///
/// `window` is `"lifetime"`, `"day"`, `"month"` (UTC), or `"day:ZONE"`, `"month:ZONE"` with an
/// IANA zone name (`"day:America/New_York"`); `limit=None` is unlimited; `hint` is what a
/// subject with no views left is told after "0 code page views remaining.".
#[pyclass(module = "codelookup", name = "Plan", frozen, eq)]
#[derive(Clone, Debug, PartialEq)]
pub struct PyPlan {
    inner: Plan,
}

#[pymethods]
impl PyPlan {
    #[new]
    #[pyo3(signature = (name, limit=None, window="lifetime".to_string(), hint=None), text_signature = "(name, limit=None, window='lifetime', hint=None)")]
    fn new(name: String, limit: Option<i64>, window: String, hint: Option<String>) -> PyResult<Self> {
        let limit = limit.map(|l| non_negative("limit", l)).transpose()?;
        let window: Window = window.parse().py_err()?;
        Ok(PyPlan { inner: Plan { name, limit, window, hint } })
    }

    /// The plan's name, as stored for each subject and passed to `Quota.set_plan`.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Views allowed per window; None means unlimited.
    #[getter]
    fn limit(&self) -> Option<u64> {
        self.inner.limit
    }

    /// The window, in the form the constructor takes (`"lifetime"`, `"day:Europe/Paris"`...).
    #[getter]
    fn window(&self) -> String {
        self.inner.window.to_string()
    }

    /// What a subject with no views left is told, or None.
    #[getter]
    fn hint(&self) -> Option<&str> {
        self.inner.hint.as_deref()
    }

    /// The fields as a dict (`name`, `limit`, `window`, `hint`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("name", &self.inner.name)?;
        dict.set_item("limit", self.inner.limit)?;
        dict.set_item("window", self.window())?;
        dict.set_item("hint", &self.inner.hint)?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let hint = self.inner.hint.as_deref().map(|h| PyString::new(py, h).repr()).transpose()?;
        Ok(format!(
            "Plan({}, limit={}, window={}, hint={})",
            PyString::new(py, &self.inner.name).repr()?,
            self.inner.limit.map_or("None".to_string(), |l| l.to_string()),
            PyString::new(py, &self.window()).repr()?,
            hint.map_or("None".to_string(), |h| h.to_string()),
        ))
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let args = (self.inner.name.clone(), self.inner.limit, self.window(), self.inner.hint.clone());
        Ok((py.get_type::<PyPlan>().into_any(), args.into_pyobject(py)?))
    }
}

/// A plan given as a `Plan` or as a dict with the constructor's keys.
fn extract_plan(item: &Bound<'_, PyAny>) -> PyResult<Plan> {
    if let Ok(p) = item.cast::<PyPlan>() {
        return Ok(p.get().inner.clone());
    }
    if let Ok(d) = item.cast::<PyDict>() {
        let plan = item.py().get_type::<PyPlan>().call((), Some(d))?;
        return Ok(plan.cast_into::<PyPlan>()?.get().inner.clone());
    }
    let ty = item.get_type().name()?;
    Err(PyTypeError::new_err(format!("plans must be codelookup.Plan objects or dicts, not {ty}")))
}

/// Metered code page views over a SQLite file (or `":memory:"`), shared safely by threads and
/// by processes that open the same file.
///
/// `Quota(path)` uses the default plans: `guest` (1 view, lifetime, the plan of new subjects),
/// `registered` (6) and `unlimited`. `plans` is a list of `Plan` objects (or dicts with the
/// same keys); `default_plan` names the plan of subjects never seen before (default: the
/// first plan); `free_reviews=False` charges re-views of an unlocked code. `busy_timeout` is
/// how many seconds a call waits for another process's write lock before `StorageError`;
/// `durable=True` fsyncs every decision (survives a power loss, slower).
///
/// Use it as a context manager, or call `close()`, to release the file; a closed quota raises
/// `StorageError`. Every call that touches the file releases the GIL.
#[pyclass(module = "codelookup", name = "Quota", frozen)]
pub struct PyQuota {
    quota: RwLock<Option<Arc<Quota>>>,
    path: PathBuf,
}

impl PyQuota {
    pub(crate) fn quota(&self) -> PyResult<Arc<Quota>> {
        self.quota.read().unwrap_or_else(PoisonError::into_inner).clone().ok_or_else(|| {
            // Through the core error, so that the exception has its `kind` like every other.
            to_py_err(codelookup::Error::Storage("this Quota is closed".into()))
        })
    }

    /// Runs `f` on the quota without the GIL.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Quota) -> codelookup::Result<T> + Send) -> PyResult<T> {
        let quota = self.quota()?;
        py.detach(|| f(&quota)).py_err()
    }
}

#[pymethods]
impl PyQuota {
    #[new]
    #[pyo3(signature = (path, plans=None, *, default_plan=None, free_reviews=true, busy_timeout=5.0, durable=false))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        plans: Option<&Bound<'_, PyAny>>,
        default_plan: Option<String>,
        free_reviews: bool,
        busy_timeout: f64,
        durable: bool,
    ) -> PyResult<Self> {
        let list: Vec<Plan> = match plans {
            None => Plans::default().iter().cloned().collect(),
            Some(p) if p.is_instance_of::<PyString>() => {
                return Err(PyTypeError::new_err("plans must be a list of Plan objects, not a str"))
            }
            Some(p) => p.try_iter()?.map(|item| extract_plan(&item?)).collect::<PyResult<_>>()?,
        };
        let default = match (default_plan, plans) {
            (Some(d), _) => d,
            (None, None) => Plans::default().default_plan().name.clone(),
            (None, Some(_)) => list.first().map(|p| p.name.clone()).unwrap_or_default(),
        };
        let plans = Plans::new(list, &default).py_err()?.with_free_reviews(free_reviews);
        let busy_timeout = Duration::try_from_secs_f64(busy_timeout).map_err(|_| {
            to_py_err(codelookup::Error::InvalidArgument(format!("busy_timeout must be 0 or more seconds, not {busy_timeout}")))
        })?;
        let options = SqliteOptions { busy_timeout, synchronous: if durable { Synchronous::Full } else { Synchronous::Normal } };
        let store = py.detach(|| SqliteStore::open_with(&path, &options)).py_err()?;
        let quota = Quota::with_store(store, plans, Arc::new(SystemClock));
        Ok(PyQuota { quota: RwLock::new(Some(Arc::new(quota))), path })
    }

    /// The quota file (`":memory:"` for a private in-memory quota).
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The plans, in the order given.
    #[getter]
    fn plans(&self) -> PyResult<Vec<PyPlan>> {
        Ok(self.quota()?.plans().iter().map(|p| PyPlan { inner: p.clone() }).collect())
    }

    /// The plan of subjects never seen before.
    #[getter]
    fn default_plan(&self) -> PyResult<String> {
        Ok(self.quota()?.plans().default_plan().name.clone())
    }

    /// Whether re-viewing a code unlocked in the current window is free.
    #[getter]
    fn free_reviews(&self) -> PyResult<bool> {
        Ok(self.quota()?.plans().free_reviews())
    }

    /// One atomic check-and-charge of `subject` viewing `code` (a free string key; use
    /// `Book.view_code` to charge canonical codes of the book). Returns a `Decision` for
    /// denials too (`allowed` False; `decision.raise_if_denied()` raises `QuotaExceeded`).
    ///
    /// With `request_key`, a retry returns the first decision (`replayed` True) without
    /// charging. Raises `InvalidArgument` for an empty or overlong subject, code or key, or a
    /// key reused for another subject or code; `StorageError` when the file cannot be used.
    #[pyo3(signature = (subject, code, request_key=None))]
    fn view(&self, py: Python<'_>, subject: String, code: String, request_key: Option<String>) -> PyResult<PyDecision> {
        self.run(py, |q| q.view(&subject, &code, request_key.as_deref())).map(PyDecision::from)
    }

    /// Many check-and-charges in one atomic call, for billing jobs: `requests` is a list (any
    /// iterable) of tuples `(subject, code)` or `(subject, code, request_key)`, `request_key`
    /// a str or None. Returns the `Decision`s in order, exactly those the same `view` calls
    /// made one after another would return (a repeated request key replays the first
    /// decision; a limit reached mid-batch denies the later views).
    ///
    /// All or nothing: the batch is one transaction, so any error (`InvalidArgument` naming
    /// the request, `requests[3]: ...`; `StorageError`) charges and records nothing. Raises
    /// `TypeError` naming the item when a request is not such a tuple.
    fn view_many(&self, py: Python<'_>, requests: &Bound<'_, PyAny>) -> PyResult<Vec<PyDecision>> {
        if requests.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("requests must be a list of (subject, code[, request_key]) tuples, not a str"));
        }
        let owned = requests.try_iter()?.enumerate().map(|(i, item)| view_request(i, &item?)).collect::<PyResult<Vec<_>>>()?;
        let decisions = self.run(py, |q| {
            let batch: Vec<ViewRequest<'_>> = owned.iter().map(|(s, c, k)| ViewRequest::new(s, c, k.as_deref())).collect();
            q.view_many(&batch)
        })?;
        Ok(decisions.into_iter().map(PyDecision::from).collect())
    }

    /// The subject's counters now (a subject never seen has its default plan's).
    fn usage(&self, py: Python<'_>, subject: String) -> PyResult<PyUsage> {
        self.run(py, |q| q.usage(&subject)).map(PyUsage::from)
    }

    /// Views the subject has left (None: unlimited).
    fn remaining(&self, py: Python<'_>, subject: String) -> PyResult<Option<u64>> {
        self.run(py, |q| q.remaining(&subject))
    }

    /// Gives the subject `extra_views` more views in the current window; returns its `Usage`.
    fn grant(&self, py: Python<'_>, subject: String, extra_views: i64) -> PyResult<PyUsage> {
        let extra_views = non_negative("extra_views", extra_views)?;
        self.run(py, |q| q.grant(&subject, extra_views)).map(PyUsage::from)
    }

    /// Starts the subject afresh (used views, grants and unlocks back to zero; plan and ledger
    /// kept); returns its `Usage`.
    fn reset(&self, py: Python<'_>, subject: String) -> PyResult<PyUsage> {
        self.run(py, |q| q.reset(&subject)).map(PyUsage::from)
    }

    /// Moves the subject to plan `plan`, keeping the views used in the current window (a guest
    /// with 1 used of 1 who registers has 1 used of 6); returns its `Usage`. Raises
    /// `InvalidArgument` for an unknown plan.
    fn set_plan(&self, py: Python<'_>, subject: String, plan: String) -> PyResult<PyUsage> {
        self.run(py, |q| q.set_plan(&subject, &plan)).map(PyUsage::from)
    }

    /// Every decided view of the subject (`LedgerEntry`), oldest first.
    fn ledger(&self, py: Python<'_>, subject: String) -> PyResult<Vec<PyLedgerEntry>> {
        Ok(self.run(py, |q| q.ledger(&subject))?.into_iter().map(PyLedgerEntry::from).collect())
    }

    /// Closes the quota file. Calls in flight on other threads finish first; later calls raise
    /// `StorageError`. Closing twice is allowed.
    fn close(&self, py: Python<'_>) {
        let quota = self.quota.write().unwrap_or_else(PoisonError::into_inner).take();
        py.detach(|| drop(quota));
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.quota.read().unwrap_or_else(PoisonError::into_inner).is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("codelookup.Quota({:?})", self.path.display().to_string())
    }

    /// A quota is an open SQLite file: pickling is refused; open the same path in the other
    /// process instead.
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(format!(
            "codelookup.Quota cannot be pickled; open the same file in the other process: codelookup.Quota({:?}, plans=...)",
            self.path.display().to_string()
        )))
    }
}

/// Request `i` of `Quota.view_many`: a tuple `(subject, code)` or `(subject, code, request_key)`.
fn view_request(i: usize, item: &Bound<'_, PyAny>) -> PyResult<(String, String, Option<String>)> {
    let bad = || -> PyResult<PyErr> {
        let ty = item.get_type().name()?;
        Ok(PyTypeError::new_err(format!(
            "requests[{i}] must be a tuple (subject, code) or (subject, code, request_key) of str (request_key may be None), not {ty} {}",
            item.repr()?
        )))
    };
    let Ok(tuple) = item.cast::<PyTuple>() else { return Err(bad()?) };
    let parsed = match tuple.len() {
        2 => tuple.extract::<(String, String)>().map(|(s, c)| (s, c, None)),
        3 => tuple.extract::<(String, String, Option<String>)>(),
        _ => return Err(bad()?),
    };
    parsed.or_else(|_| Err(bad()?))
}

/// `Book.view_code`: the lookup and the charge, without the GIL.
#[allow(clippy::too_many_arguments)]
pub(crate) fn view_code(
    py: Python<'_>,
    book: &PyBook,
    quota: &Bound<'_, PyQuota>,
    subject: String,
    code: &Bound<'_, PyString>,
    system: Option<&Bound<'_, PyString>>,
    request_key: Option<String>,
) -> PyResult<(PyCodeRecord, PyDecision)> {
    let system = parse_system(system)?;
    let code = text(code);
    let quota = quota.get().quota()?;
    let book = book.book();
    let (rec, decision) =
        py.detach(|| codelookup::quota::view_code(book, &quota, &subject, &code, system, request_key.as_deref())).py_err()?;
    Ok((PyCodeRecord::from(rec), PyDecision::from(decision)))
}

/// Adds the quota classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyQuota>()?;
    m.add_class::<PyPlan>()?;
    m.add_class::<PyDecision>()?;
    m.add_class::<PyUsage>()?;
    m.add_class::<PyLedgerEntry>()?;
    Ok(())
}
