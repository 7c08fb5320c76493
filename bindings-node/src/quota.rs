//! The `Quota` class: the core's [`codelookup::quota::Quota`] (metered code page views in a
//! SQLite file shared by threads and processes), its plain-object results, and the options
//! that define the plans.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use codelookup::quota as core;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{count, or_throw, whole, MAX_SAFE_INTEGER};
use crate::tasks::{DecisionTask, DecisionsTask, LedgerTask, UsageTask, Work};

/// One plan of a `Quota`: how many code page views a subject on it may use per window.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct PlanSpec {
    /// The plan's name, as passed to `setPlan`.
    pub name: String,
    /// Views allowed per window; `null` or omitted: unlimited.
    pub limit: Option<Either<f64, Null>>,
    /// `lifetime` (the default), `day`, `month` (UTC), or `day:ZONE`, `month:ZONE` with an
    /// IANA zone such as `America/New_York`.
    pub window: Option<String>,
    /// What to tell a subject who has no views left ("Register to get 5 more views.").
    pub hint: Option<Either<String, Null>>,
}

/// Options of `new Quota(path, options)`.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct QuotaOptions {
    /// The plans offered. Default: `guest` (1 view, lifetime, the default plan), `registered`
    /// (6), `unlimited`.
    pub plans: Option<Vec<PlanSpec>>,
    /// The plan of subjects never seen before (default: the first plan, `guest` by default).
    pub default_plan: Option<String>,
    /// Whether re-viewing a code the subject already unlocked in the window is free (default
    /// `true`).
    pub free_reviews: Option<bool>,
    /// How long a call waits for another connection's write lock before throwing
    /// `STORAGE_ERROR`, in milliseconds (default 5000).
    pub busy_timeout_ms: Option<f64>,
    /// `normal` (the default: a committed decision survives a crash of the process) or `full`
    /// (an fsync per decision: it also survives a power loss).
    #[napi(ts_type = "'normal' | 'full'")]
    pub synchronous: Option<String>,
}

/// A plan as the quota holds it.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct PlanInfo {
    /// The plan's name.
    pub name: String,
    /// Views allowed per window (`null`: unlimited).
    pub limit: Option<i64>,
    /// The window, as `lifetime`, `day`, `month`, `day:ZONE` or `month:ZONE`.
    pub window: String,
    /// The hint shown when no views are left.
    pub hint: Option<String>,
}

impl From<&core::Plan> for PlanInfo {
    fn from(p: &core::Plan) -> PlanInfo {
        let core::Plan { name, limit, window, hint } = p;
        PlanInfo { name: name.clone(), limit: limit.map(count), window: window.to_string(), hint: hint.clone() }
    }
}

/// The answer to `view`: whether the subject may see the code page, and what to tell it.
/// Instants are ISO 8601 UTC strings (`"2025-05-02T00:00:00.000Z"`).
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Decision {
    /// The subject, as passed.
    pub subject: String,
    /// The code, as passed (canonical when it comes from `Book.viewCode`).
    pub code: String,
    /// Whether the page may be shown.
    pub allowed: bool,
    /// Whether this view used up one view (false for denials and free re-views).
    pub charged: bool,
    /// Whether this is the recorded decision of an earlier call with the same request key.
    pub replayed: bool,
    /// Views used in the current window, this one included.
    pub used: i64,
    /// Views left in the current window (`null`: unlimited).
    pub remaining: Option<i64>,
    /// Views allowed in the current window, grants included (`null`: unlimited).
    pub limit: Option<i64>,
    /// The subject's plan.
    pub plan: String,
    /// When the window resets (`null` for lifetime windows).
    pub reset_at: Option<String>,
    /// A sentence the host can show ("0 code page views remaining. Register to get 5 more
    /// views.").
    pub reason: String,
}

impl From<core::Decision> for Decision {
    fn from(d: core::Decision) -> Decision {
        let core::Decision { subject, code, allowed, charged, replayed, used, remaining, limit, plan, reset_at, reason } = d;
        Decision {
            subject,
            code,
            allowed,
            charged,
            replayed,
            used: count(used),
            remaining: remaining.map(count),
            limit: limit.map(count),
            plan,
            reset_at: reset_at.map(instant),
            reason,
        }
    }
}

/// One view of a `viewMany` batch, as the arguments of `view`.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct ViewRequest {
    /// Who views (a visitor, an account, an API key).
    pub subject: String,
    /// The code viewed (a free string key).
    pub code: String,
    /// The request key that makes the view idempotent; omitted or `null`: none.
    pub request_key: Option<Either<String, Null>>,
}

/// The core's batch call on owned requests.
fn view_many(q: &core::Quota, requests: &[ViewRequest]) -> codelookup::Result<Vec<Decision>> {
    fn key(r: &ViewRequest) -> Option<&str> {
        match &r.request_key {
            Some(Either::A(k)) => Some(k),
            _ => None,
        }
    }
    let batch: Vec<core::ViewRequest<'_>> = requests.iter().map(|r| core::ViewRequest::new(&r.subject, &r.code, key(r))).collect();
    Ok(q.view_many(&batch)?.into_iter().map(Decision::from).collect())
}

/// A subject's counters now.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Usage {
    /// The subject.
    pub subject: String,
    /// Its plan.
    pub plan: String,
    /// Views used in the current window.
    pub used: i64,
    /// Views allowed in the current window, grants included (`null`: unlimited).
    pub limit: Option<i64>,
    /// Views granted in the current window on top of the plan's limit.
    pub granted: i64,
    /// Views left (`null`: unlimited).
    pub remaining: Option<i64>,
    /// When the window resets (`null` for lifetime windows), ISO 8601 UTC.
    pub reset_at: Option<String>,
    /// The number of the current window.
    pub epoch: i64,
}

impl From<core::Usage> for Usage {
    fn from(u: core::Usage) -> Usage {
        let core::Usage { subject, plan, used, limit, granted, remaining, reset_at, epoch } = u;
        Usage {
            subject,
            plan,
            used: count(used),
            limit: limit.map(count),
            granted: count(granted),
            remaining: remaining.map(count),
            reset_at: reset_at.map(instant),
            epoch: count(epoch),
        }
    }
}

/// One row of a subject's ledger: one decided view.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    /// Position in the subject's ledger (1, 2, 3...), in commit order.
    pub seq: i64,
    /// When the view was decided, ISO 8601 UTC.
    pub at: String,
    /// The window number the view was decided in.
    pub epoch: i64,
    /// The code viewed.
    pub code: String,
    /// The request key of the call, if it had one.
    pub request_key: Option<String>,
    /// Whether the view was allowed.
    pub allowed: bool,
    /// Whether the view was charged.
    pub charged: bool,
    /// The plan at the time.
    pub plan: String,
    /// Views used after this view.
    pub used: i64,
    /// The limit at the time (`null`: unlimited).
    pub limit: Option<i64>,
    /// Views left after this view (`null`: unlimited).
    pub remaining: Option<i64>,
}

impl From<core::LedgerEntry> for LedgerEntry {
    fn from(e: core::LedgerEntry) -> LedgerEntry {
        let core::LedgerEntry { seq, at, epoch, code, request_key, allowed, charged, plan, used, limit, remaining } = e;
        LedgerEntry {
            seq: count(seq),
            at: instant(at),
            epoch: count(epoch),
            code,
            request_key,
            allowed,
            charged,
            plan,
            used: count(used),
            limit: limit.map(count),
            remaining: remaining.map(count),
        }
    }
}

/// An optional argument that may also be `null`.
fn nullable<T>(v: Option<Either<T, Null>>) -> Option<T> {
    match v {
        Some(Either::A(v)) => Some(v),
        _ => None,
    }
}

/// An instant as ISO 8601 in UTC with milliseconds, as JavaScript's `Date#toISOString`.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Opens the quota file with the options' store settings and plans.
fn open(path: &str, options: QuotaOptions) -> codelookup::Result<core::Quota> {
    let mut store = core::SqliteOptions::default();
    if let Some(ms) = options.busy_timeout_ms {
        store.busy_timeout = Duration::from_millis(whole("busyTimeoutMs", ms, MAX_SAFE_INTEGER)?);
    }
    store.synchronous = match options.synchronous.as_deref() {
        None | Some("normal") => core::Synchronous::Normal,
        Some("full") => core::Synchronous::Full,
        Some(other) => {
            return Err(codelookup::Error::InvalidArgument(format!("synchronous must be \"normal\" or \"full\", not {other:?}")));
        }
    };
    let plans = plans(options)?;
    Ok(core::Quota::with_store(core::SqliteStore::open_with(path, &store)?, plans, Arc::new(core::SystemClock)))
}

fn plans(options: QuotaOptions) -> codelookup::Result<core::Plans> {
    let QuotaOptions { plans, default_plan, free_reviews, busy_timeout_ms: _, synchronous: _ } = options;
    let (list, default) = match plans {
        Some(specs) => {
            let list: Vec<core::Plan> = specs.into_iter().map(plan).collect::<codelookup::Result<_>>()?;
            let default = default_plan.or_else(|| list.first().map(|p| p.name.clone())).unwrap_or_default();
            (list, default)
        }
        None => {
            let defaults = core::Plans::default();
            let default = default_plan.unwrap_or_else(|| defaults.default_plan().name.clone());
            (defaults.iter().cloned().collect(), default)
        }
    };
    Ok(core::Plans::new(list, &default)?.with_free_reviews(free_reviews.unwrap_or(true)))
}

fn plan(spec: PlanSpec) -> codelookup::Result<core::Plan> {
    let PlanSpec { name, limit, window, hint } = spec;
    let limit = nullable(limit).map(|l| whole("a plan limit", l, MAX_SAFE_INTEGER)).transpose()?;
    let hint = nullable(hint);
    let window = match window {
        Some(w) => w.parse()?,
        None => core::Window::Lifetime,
    };
    let plan = core::Plan::new(name, limit, window);
    Ok(match hint {
        Some(h) => plan.with_hint(h),
        None => plan,
    })
}

/// Metered code page views, persistent in a SQLite file that many threads and processes
/// (Node, Python, Rust) may share: every `view` is one atomic check-and-charge, exact under
/// concurrency and crashes.
///
/// Sync calls block the JS thread for the SQLite transaction (tens of microseconds, longer
/// while another process holds the write lock); the `...Async` variants run it on the libuv
/// pool. `close()` releases the file; calls after it throw `STORAGE_ERROR`.
///
/// ```js
/// const { Quota } = require('codelookup')
/// const quota = new Quota('/var/lib/app/quota.db')
/// const d = quota.view('guest:1f3a', 'E11.9')   // { allowed: true, remaining: 0, ... }
/// ```
#[napi]
pub struct Quota {
    inner: Mutex<Option<Arc<core::Quota>>>,
    path: String,
}

impl Quota {
    /// The open core quota, or `STORAGE_ERROR` after `close()`.
    pub(crate) fn get(&self) -> codelookup::Result<Arc<core::Quota>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| codelookup::Error::Storage(format!("quota database {} is closed", self.path)))
    }

    fn run<T>(&self, env: &Env, f: impl FnOnce(&core::Quota) -> codelookup::Result<T>) -> Result<T> {
        or_throw(env, self.get().and_then(|q| f(&q)))
    }

    fn spawn<T>(&self, f: impl FnOnce(&core::Quota) -> codelookup::Result<T> + Send + 'static) -> Work<T> {
        let quota = self.get();
        Work::new(move || f(quota?.as_ref()))
    }
}

#[napi]
impl Quota {
    /// Opens (creating if needed) the quota file at `path` (`:memory:` for a private in-memory
    /// quota). Throws `STORAGE_ERROR` when the file cannot be used (read-only, not a database,
    /// corrupt, from a newer version, locked too long), `INVALID_ARGUMENT` for bad plans.
    #[napi(constructor, catch_unwind, strict)]
    pub fn new(env: &Env, path: String, options: Option<QuotaOptions>) -> Result<Quota> {
        let quota = or_throw(env, open(&path, options.unwrap_or_default()))?;
        Ok(Quota { inner: Mutex::new(Some(Arc::new(quota))), path })
    }

    /// The path the quota was opened with.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).is_none()
    }

    /// The plans, in the order given.
    #[napi(getter)]
    pub fn plans(&self, env: &Env) -> Result<Vec<PlanInfo>> {
        self.run(env, |q| Ok(q.plans().iter().map(PlanInfo::from).collect()))
    }

    /// The plan of subjects never seen before.
    #[napi(getter)]
    pub fn default_plan(&self, env: &Env) -> Result<String> {
        self.run(env, |q| Ok(q.plans().default_plan().name.clone()))
    }

    /// Whether re-viewing an unlocked code is free.
    #[napi(getter)]
    pub fn free_reviews(&self, env: &Env) -> Result<bool> {
        self.run(env, |q| Ok(q.plans().free_reviews()))
    }

    /// One atomic check-and-charge of `subject` viewing `code` (a free string key; use
    /// `Book.viewCode` to look the code up and charge it under its canonical spelling).
    ///
    /// Denials are returned (`allowed: false`), not thrown. With `requestKey`, a retry returns
    /// the first decision (`replayed: true`) and charges nothing. Throws `INVALID_ARGUMENT`
    /// (empty or overlong subject, code or key; a key reused for another code) and
    /// `STORAGE_ERROR`.
    #[napi(catch_unwind, strict)]
    pub fn view(&self, env: &Env, subject: String, code: String, request_key: Option<String>) -> Result<Decision> {
        self.run(env, |q| q.view(&subject, &code, request_key.as_deref())).map(Decision::from)
    }

    /// Like `view`, on the libuv pool.
    #[napi(strict)]
    pub fn view_async(&self, subject: String, code: String, request_key: Option<String>) -> AsyncTask<DecisionTask> {
        AsyncTask::new(DecisionTask(self.spawn(move |q| q.view(&subject, &code, request_key.as_deref()).map(Decision::from))))
    }

    /// Many check-and-charges in one atomic call, for billing jobs: the decisions, in order,
    /// are exactly those of the same `view` calls made one after another (a repeated
    /// `requestKey` replays the first decision; a limit reached mid-batch denies the later
    /// views). All or nothing: the batch is one transaction, so any error (`INVALID_ARGUMENT`
    /// naming the request, `requests[3]: ...`; `STORAGE_ERROR`) charges and records nothing.
    #[napi(catch_unwind, strict)]
    pub fn view_many(&self, env: &Env, requests: Vec<ViewRequest>) -> Result<Vec<Decision>> {
        self.run(env, |q| view_many(q, &requests))
    }

    /// Like `viewMany`, on the libuv pool.
    #[napi(strict)]
    pub fn view_many_async(&self, requests: Vec<ViewRequest>) -> AsyncTask<DecisionsTask> {
        AsyncTask::new(DecisionsTask(self.spawn(move |q| view_many(q, &requests))))
    }

    /// The subject's counters now (a subject never seen has its default plan's).
    #[napi(catch_unwind, strict)]
    pub fn usage(&self, env: &Env, subject: String) -> Result<Usage> {
        self.run(env, |q| q.usage(&subject)).map(Usage::from)
    }

    /// Like `usage`, on the libuv pool.
    #[napi(strict)]
    pub fn usage_async(&self, subject: String) -> AsyncTask<UsageTask> {
        AsyncTask::new(UsageTask(self.spawn(move |q| q.usage(&subject).map(Usage::from))))
    }

    /// Views the subject has left (`null`: unlimited).
    #[napi(catch_unwind, strict)]
    pub fn remaining(&self, env: &Env, subject: String) -> Result<Option<i64>> {
        self.run(env, |q| q.remaining(&subject)).map(|r| r.map(count))
    }

    /// Gives the subject `extraViews` more views in the current window.
    #[napi(catch_unwind, strict)]
    pub fn grant(&self, env: &Env, subject: String, extra_views: f64) -> Result<Usage> {
        self.run(env, |q| q.grant(&subject, whole("extraViews", extra_views, MAX_SAFE_INTEGER)?)).map(Usage::from)
    }

    /// Like `grant`, on the libuv pool.
    #[napi(strict)]
    pub fn grant_async(&self, subject: String, extra_views: f64) -> AsyncTask<UsageTask> {
        AsyncTask::new(UsageTask(
            self.spawn(move |q| q.grant(&subject, whole("extraViews", extra_views, MAX_SAFE_INTEGER)?).map(Usage::from)),
        ))
    }

    /// Starts the subject afresh: used views, grants and unlocks back to zero; plan kept.
    #[napi(catch_unwind, strict)]
    pub fn reset(&self, env: &Env, subject: String) -> Result<Usage> {
        self.run(env, |q| q.reset(&subject)).map(Usage::from)
    }

    /// Like `reset`, on the libuv pool.
    #[napi(strict)]
    pub fn reset_async(&self, subject: String) -> AsyncTask<UsageTask> {
        AsyncTask::new(UsageTask(self.spawn(move |q| q.reset(&subject).map(Usage::from))))
    }

    /// Moves the subject to `plan`, keeping the views used in the current window. Throws
    /// `INVALID_ARGUMENT` for an unknown plan.
    #[napi(catch_unwind, strict)]
    pub fn set_plan(&self, env: &Env, subject: String, plan: String) -> Result<Usage> {
        self.run(env, |q| q.set_plan(&subject, &plan)).map(Usage::from)
    }

    /// Like `setPlan`, on the libuv pool.
    #[napi(strict)]
    pub fn set_plan_async(&self, subject: String, plan: String) -> AsyncTask<UsageTask> {
        AsyncTask::new(UsageTask(self.spawn(move |q| q.set_plan(&subject, &plan).map(Usage::from))))
    }

    /// Every decided view of the subject, oldest first.
    #[napi(catch_unwind, strict)]
    pub fn ledger(&self, env: &Env, subject: String) -> Result<Vec<LedgerEntry>> {
        self.run(env, |q| q.ledger(&subject)).map(crate::record::convert)
    }

    /// Like `ledger`, on the libuv pool.
    #[napi(strict)]
    pub fn ledger_async(&self, subject: String) -> AsyncTask<LedgerTask> {
        AsyncTask::new(LedgerTask(self.spawn(move |q| q.ledger(&subject).map(crate::record::convert))))
    }

    /// Closes the quota file (once calls already running have finished). Later calls throw
    /// `STORAGE_ERROR`; closing twice is harmless.
    #[napi]
    pub fn close(&self) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}
