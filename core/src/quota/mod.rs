//! Metered code page views: how many codes a subject (a visitor, an account, an API key) may
//! open, exact under concurrency and crashes.
//!
//! This module owns the quota: the plans a host defines ([`Plan`], [`Window`], [`Plans`]), the
//! one atomic check-and-charge ([`Quota::view`] returning a [`Decision`]), idempotent retries
//! (request keys), plan changes, grants and resets, the per-subject ledger, and the storage
//! behind them: the [`QuotaStore`] trait and its embedded implementation [`SqliteStore`]. It
//! knows nothing about the code book: a code is a free string key that the caller normalises.
//!
//! ```
//! use codelookup::quota::{Plans, Quota};
//!
//! let path = std::env::temp_dir().join(format!("codelookup-doc-quota-{}.db", std::process::id()));
//! # for ext in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{ext}", path.display())); }
//! let quota = Quota::open(&path, Plans::default())?;
//!
//! // A guest sees one code page...
//! let d = quota.view("guest:1f3a", "E11.9", Some("req-1"))?;
//! assert!(d.allowed && d.charged);
//! assert_eq!((d.used, d.limit, d.remaining), (1, Some(1), Some(0)));
//! // ...may open it again for free...
//! assert!(!quota.view("guest:1f3a", "E11.9", None)?.charged);
//! // ...but no other.
//! let d = quota.view("guest:1f3a", "I10", None)?;
//! assert!(!d.allowed);
//! assert_eq!(d.reason, "0 code page views remaining. Register to get 5 more views.");
//!
//! // The guest registers and keeps the view used: 1 used of 6.
//! let u = quota.set_plan("guest:1f3a", "registered")?;
//! assert_eq!((u.used, u.limit, u.remaining), (1, Some(6), Some(5)));
//! assert!(quota.view("guest:1f3a", "I10", None)?.allowed);
//! # drop(quota);
//! # for ext in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{ext}", path.display())); }
//! # Ok::<(), codelookup::Error>(())
//! ```
//!
//! # Semantics
//!
//! - A subject never seen before starts on [`Plans::default_plan`] (`guest` by default).
//! - A view of a code is *charged* when the subject did not unlock that code in the current
//!   window, and *allowed* when it is charged within the limit (plan limit plus grants) or is a
//!   free re-view of an unlocked code. Re-views are free unless turned off with
//!   [`Plans::with_free_reviews`]. Unlimited plans count their views too (so a downgrade keeps
//!   them), and never deny.
//! - Every decision, allowed or denied, is one row of the subject's ledger. A denied view is
//!   recorded with `allowed: false, charged: false` and changes no counter.
//! - A request key makes the call idempotent: a call whose key was already decided for the
//!   subject returns the recorded decision (with `replayed: true`), whenever it comes, charges
//!   nothing and adds no ledger row. Keys are scoped to their subject; reusing a subject's key
//!   for another code is an [`Error::InvalidArgument`].
//! - Windows: when a subject's plan window has moved on (a new day or month in the plan's time
//!   zone), its used views, grants and unlocks start again from zero (a new *epoch*). A clock
//!   that goes backwards never starts a new window.
//! - Plan changes ([`Quota::set_plan`]) keep the views used and the unlocks of the current
//!   window: a guest with 1 used of 1 who registers has 1 used of 6; a downgrade can leave a
//!   subject with more used than its new limit (remaining 0).
//! - Grants ([`Quota::grant`]) add views to the current window; a new window drops them.
//!   [`Quota::reset`] starts a new epoch: used, grants and unlocks back to zero, plan kept.
//!
//! # Durability
//!
//! The embedded store keeps its file in WAL mode with `synchronous=NORMAL` (the default,
//! [`Synchronous::Normal`]). Every decision is one transaction, committed before `view` returns.
//! A crash or `SIGKILL` of the host process, at any moment, loses no committed decision and
//! doubles none: the committed transaction is already in the WAL file, where every later connection reads
//! it, and an interrupted one is rolled back whole, a batch of [`Quota::view_many`] too (it is
//! one transaction). The crash test kills worker
//! processes with `SIGKILL` mid-view, round after round, and checks that every decision a worker
//! saw as charged is in the ledger, charged, exactly once, and that the counters equal the ledger.
//! A power loss or an operating-system crash is different: the WAL is only fsynced when it is
//! checkpointed into the file (every 16,384 pages of WAL: 32 MiB in a file created by this
//! release, 16 MiB in one of 1 KiB pages created by an earlier one; a few thousand decisions;
//! by a background thread of the [`SqliteStore`], off the callers' path), so the decisions
//! committed since the last checkpoint may be lost; they are lost whole and newest first, the file
//! stays consistent (never corrupt), and the ledger and the counters still agree. A lost charged
//! view simply becomes free again, which favours the subject. Hosts that need every decision to
//! survive a power loss open the store with [`Synchronous::Full`], which fsyncs the WAL at each
//! commit; on the benchmark machine that costs about 0.3 ms per decision when it is idle
//! (3,500 decisions/s instead of 11,900) and up to 4 ms when its disk is busy; see
//! BENCHMARKS.md.
//!
//! # Storage
//!
//! [`Quota`] talks to a [`QuotaStore`]; the plan and window rules live here, and a store only
//! runs them inside its own atomic transaction, so a server-backed store (PostgreSQL, Redis)
//! can implement the same meaning later. [`SqliteStore`] is the embedded default.

mod checkpoint;
mod code_view;
mod plan;
mod sqlite;
mod store;
mod vfs;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use chrono_tz::Tz;
pub use code_view::view_code;
pub use plan::{Plan, Plans, Window};
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous, SCHEMA_VERSION};
pub use store::{BatchDecideFn, ChangeFn, DecideFn, QuotaStore, SubjectState, Verdict, ViewInput};

use crate::error::{Error, Result};

/// The longest subject, code or request key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Counts are stored as SQLite integers; grants saturate here.
const MAX_COUNT: u64 = i64::MAX as u64;

/// The source of the current time. Tests inject a [`ManualClock`] (or any
/// `Fn() -> DateTime<Utc>`), so they never sleep.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl<F: Fn() -> DateTime<Utc> + Send + Sync> Clock for F {
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

/// A clock that stays where it is set, for tests.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use codelookup::quota::{Clock, ManualClock};
/// let t0 = Utc.with_ymd_and_hms(2025, 1, 31, 23, 0, 0).unwrap();
/// let clock = ManualClock::new(t0);
/// clock.advance(Duration::hours(2));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2025, 2, 1, 1, 0, 0).unwrap());
/// ```
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(t))
    }

    /// Sets the time.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = t;
    }

    /// Moves the time by `d` (backwards if negative).
    pub fn advance(&self, d: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t = t.checked_add_signed(d).unwrap_or(*t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The answer to [`Quota::view`]: whether the subject may see the code page, and what to tell it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The subject, as passed.
    pub subject: String,
    /// The code, as passed.
    pub code: String,
    /// Whether the page may be shown.
    pub allowed: bool,
    /// Whether this view used up one view (false for denials and free re-views).
    pub charged: bool,
    /// Whether this is the recorded decision of an earlier call with the same request key.
    pub replayed: bool,
    /// Views used in the current window, this one included.
    pub used: u64,
    /// Views left in the current window (`None`: unlimited).
    pub remaining: Option<u64>,
    /// Views allowed in the current window, grants included (`None`: unlimited).
    pub limit: Option<u64>,
    /// The subject's plan.
    pub plan: String,
    /// When the window resets (`None` for lifetime windows).
    pub reset_at: Option<DateTime<Utc>>,
    /// A sentence the host can show ("0 code page views remaining. Register to get 5 more
    /// views.").
    pub reason: String,
}

impl Decision {
    /// `Ok(self)` when allowed, else [`Error::QuotaExceeded`] carrying the reason, for hosts
    /// that prefer `?` to an `if`.
    ///
    /// ```
    /// use codelookup::{quota::{Plans, Quota}, Error};
    /// let quota = Quota::open(":memory:", Plans::default())?;
    /// quota.view("visitor", "E11.9", None)?.into_result()?;
    /// match quota.view("visitor", "I10", None)?.into_result() {
    ///     Err(Error::QuotaExceeded { remaining: 0, limit: Some(1), .. }) => {}
    ///     other => panic!("expected a denial, got {other:?}"),
    /// }
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn into_result(self) -> Result<Decision> {
        if self.allowed {
            Ok(self)
        } else {
            Err(Error::QuotaExceeded {
                subject: self.subject,
                remaining: self.remaining.unwrap_or(0),
                limit: self.limit,
                message: self.reason,
            })
        }
    }
}

/// A subject's counters now, from [`Quota::usage`] and the admin calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The subject.
    pub subject: String,
    /// Its plan.
    pub plan: String,
    /// Views used in the current window.
    pub used: u64,
    /// Views allowed in the current window, grants included (`None`: unlimited).
    pub limit: Option<u64>,
    /// Views granted in the current window on top of the plan's limit.
    pub granted: u64,
    /// Views left (`None`: unlimited).
    pub remaining: Option<u64>,
    /// When the window resets (`None` for lifetime windows).
    pub reset_at: Option<DateTime<Utc>>,
    /// The number of the current window (see [`SubjectState::epoch`]).
    pub epoch: u64,
}

/// One row of a subject's ledger: one decided view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// Position in the subject's ledger (1, 2, 3...), in commit order.
    pub seq: u64,
    /// When the view was decided.
    pub at: DateTime<Utc>,
    /// The window number the view was decided in.
    pub epoch: u64,
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
    pub used: u64,
    /// The limit at the time (`None`: unlimited).
    pub limit: Option<u64>,
    /// Views left after this view (`None`: unlimited).
    pub remaining: Option<u64>,
}

/// Metered code page views over a [`QuotaStore`]; `Send + Sync`, share it between threads
/// (an `Arc<Quota>`) and open the same file from as many processes as needed.
pub struct Quota {
    store: Box<dyn QuotaStore>,
    plans: Plans,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quota").field("plans", &self.plans).finish_non_exhaustive()
    }
}

impl Quota {
    /// Opens (creating if needed) the SQLite quota file at `path` with the system clock.
    /// `path` may be `:memory:` for a private in-memory quota. See [`SqliteStore::open`] for the
    /// errors.
    pub fn open(path: impl AsRef<Path>, plans: Plans) -> Result<Quota> {
        Quota::open_with_clock(path, plans, Arc::new(SystemClock))
    }

    /// Like [`Quota::open`], with the time taken from `clock`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{Duration, TimeZone, Utc};
    /// use codelookup::quota::{ManualClock, Plan, Plans, Quota, Window};
    ///
    /// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 5, 1, 12, 0, 0).unwrap()));
    /// let plans = Plans::new([Plan::new("daily", Some(1), Window::DAY_UTC)], "daily")?;
    /// let quota = Quota::open_with_clock(":memory:", plans, clock.clone())?;
    /// assert!(quota.view("u", "A00", None)?.allowed);
    /// assert!(!quota.view("u", "B00", None)?.allowed);
    /// clock.advance(Duration::hours(12)); // midnight UTC: a new day
    /// assert!(quota.view("u", "B00", None)?.allowed);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn open_with_clock(path: impl AsRef<Path>, plans: Plans, clock: Arc<dyn Clock>) -> Result<Quota> {
        Ok(Quota::with_store(SqliteStore::open(path)?, plans, clock))
    }

    /// A quota over any store (a [`SqliteStore`] opened with options, or another backend).
    pub fn with_store(store: impl QuotaStore + 'static, plans: Plans, clock: Arc<dyn Clock>) -> Quota {
        Quota { store: Box::new(store), plans, clock }
    }

    /// The plans this quota was opened with.
    pub fn plans(&self) -> &Plans {
        &self.plans
    }

    /// One atomic check-and-charge of `subject` viewing `code`.
    ///
    /// Returns `Ok` for denials too (`allowed: false`); use [`Decision::into_result`] to turn
    /// them into [`Error::QuotaExceeded`]. With `request_key`, a retry returns the first
    /// decision without charging (see the module's semantics). Errors:
    /// [`Error::InvalidArgument`] for an empty or overlong subject, code or key, a key of the
    /// subject reused for another code, or a subject stored on a plan the host no longer defines;
    /// [`Error::Storage`] when the store fails.
    pub fn view(&self, subject: &str, code: &str, request_key: Option<&str>) -> Result<Decision> {
        ViewRequest::new(subject, code, request_key).check()?;
        let now = self.clock.now();
        let plans = &self.plans;
        self.store.view(subject, code, request_key, &|input: ViewInput| decide(plans, now, subject, code, request_key, input))
    }

    /// Many check-and-charges in one atomic call, for billing jobs that charge many views at
    /// once: the decisions, in order, are exactly those of the same calls made one after another
    /// with [`Quota::view`] (a subject repeated in the batch, a re-view of a code unlocked
    /// earlier in the batch, a request key repeated in the batch (it replays the first
    /// decision), a limit reached mid-batch that denies the later views). The whole batch is
    /// decided at one instant (one reading of the clock).
    ///
    /// All or nothing: with a [`SqliteStore`] the batch is one transaction, so an error
    /// anywhere in it (an invalid request, a request key reused for another code, a storage
    /// failure) returns that error and charges nothing, records nothing. Errors about one
    /// request are [`Error::InvalidArgument`] naming its position (`requests[3]: ...`). An
    /// empty batch returns an empty list without touching the store. There is no limit on the
    /// batch size, but the store's write lock is held for the whole batch: other writers wait
    /// for it (up to their busy timeout), so keep batches to thousands rather than millions.
    ///
    /// ```
    /// use codelookup::quota::{Plans, Quota, ViewRequest};
    /// let quota = Quota::open(":memory:", Plans::default())?;
    /// let decisions = quota.view_many(&[
    ///     ViewRequest::new("guest:1", "E11.9", Some("job-7/1")),
    ///     ViewRequest::new("guest:1", "E11.9", None),             // a free re-view
    ///     ViewRequest::new("guest:1", "I10", None),               // over the limit
    ///     ViewRequest::new("guest:2", "I10", Some("job-7/4")),
    /// ])?;
    /// let seen: Vec<_> = decisions.iter().map(|d| (d.allowed, d.charged)).collect();
    /// assert_eq!(seen, [(true, true), (true, false), (false, false), (true, true)]);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn view_many(&self, requests: &[ViewRequest<'_>]) -> Result<Vec<Decision>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        for (i, r) in requests.iter().enumerate() {
            r.check().map_err(|e| in_request(i, e))?;
        }
        let now = self.clock.now();
        let plans = &self.plans;
        self.store.view_many(requests, &|i: usize, input: ViewInput| {
            let r = requests
                .get(i)
                .ok_or_else(|| Error::Storage(format!("the store asked to decide request {i} of a batch of {}", requests.len())))?;
            decide(plans, now, r.subject, r.code, r.request_key, input).map_err(|e| in_request(i, e))
        })
    }

    /// The subject's counters now (a subject never seen has its default plan's).
    pub fn usage(&self, subject: &str) -> Result<Usage> {
        check_key("subject", subject)?;
        let now = self.clock.now();
        let state = self.store.load(subject)?;
        let (plan, state) = current(&self.plans, state.as_ref(), now)?;
        Ok(usage(subject, plan, &state, now))
    }

    /// Views the subject has left (`None`: unlimited).
    pub fn remaining(&self, subject: &str) -> Result<Option<u64>> {
        Ok(self.usage(subject)?.remaining)
    }

    /// Gives the subject `extra_views` more views in the current window ("+5 views").
    pub fn grant(&self, subject: &str, extra_views: u64) -> Result<Usage> {
        self.change(subject, |_, s| {
            s.bonus = s.bonus.saturating_add(extra_views).min(MAX_COUNT);
        })
    }

    /// Starts the subject afresh: used views, grants and unlocks of the current window back to
    /// zero (a new epoch); the plan is kept and the ledger keeps its history.
    pub fn reset(&self, subject: &str) -> Result<Usage> {
        self.change(subject, |_, s| {
            s.epoch = s.epoch.saturating_add(1);
            s.used = 0;
            s.bonus = 0;
        })
    }

    /// Moves the subject to plan `plan`, keeping the views used, grants and unlocks of the
    /// current window (a guest with 1 used of 1 who registers has 1 used of 6).
    ///
    /// Errors with [`Error::InvalidArgument`] if `plan` is not defined. Also moves subjects off
    /// a plan the host no longer defines.
    pub fn set_plan(&self, subject: &str, plan: &str) -> Result<Usage> {
        check_key("subject", subject)?;
        let new_plan = self.plans.require(plan)?;
        let now = self.clock.now();
        let plans = &self.plans;
        let state = self.store.update(subject, now, &|old: Option<&SubjectState>| {
            let mut s = match old {
                // The old plan is gone: keep the counters as they are.
                Some(old) if plans.get(&old.plan).is_none() => old.clone(),
                _ => current(plans, old, now)?.1,
            };
            s.plan = new_plan.name.clone();
            s.window_start = new_plan.window.start(now);
            Ok(s)
        })?;
        Ok(usage(subject, new_plan, &state, now))
    }

    /// Every decided view of the subject, oldest first.
    pub fn ledger(&self, subject: &str) -> Result<Vec<LedgerEntry>> {
        check_key("subject", subject)?;
        self.store.ledger(subject)
    }

    /// One admin read-modify-write after the window rules.
    fn change(&self, subject: &str, f: impl Fn(&Plan, &mut SubjectState)) -> Result<Usage> {
        check_key("subject", subject)?;
        let now = self.clock.now();
        let plans = &self.plans;
        let state = self.store.update(subject, now, &|old: Option<&SubjectState>| {
            let (plan, mut s) = current(plans, old, now)?;
            f(plan, &mut s);
            Ok(s)
        })?;
        let plan = self.plans.require(&state.plan)?;
        Ok(usage(subject, plan, &state, now))
    }
}

/// One view of a [`Quota::view_many`] batch: `subject` viewing `code`, with an optional request
/// key, as the arguments of [`Quota::view`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ViewRequest<'a> {
    /// Who views (a visitor, an account, an API key).
    pub subject: &'a str,
    /// The code viewed (a free string key; the caller normalises it).
    pub code: &'a str,
    /// The request key that makes the view idempotent, if any.
    pub request_key: Option<&'a str>,
}

impl<'a> ViewRequest<'a> {
    /// A request of `subject` to view `code`.
    pub fn new(subject: &'a str, code: &'a str, request_key: Option<&'a str>) -> ViewRequest<'a> {
        ViewRequest { subject, code, request_key }
    }

    /// [`Error::InvalidArgument`] for an empty or overlong subject, code or key.
    fn check(&self) -> Result<()> {
        check_key("subject", self.subject)?;
        check_key("code", self.code)?;
        if let Some(k) = self.request_key {
            check_key("request key", k)?;
        }
        Ok(())
    }
}

/// An error about request `i` of a batch, saying which.
fn in_request(i: usize, e: Error) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("requests[{i}]: {m}")),
        other => other,
    }
}

fn check_key(what: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::InvalidArgument(format!("the {what} is empty")));
    }
    if s.len() > MAX_KEY_LEN {
        return Err(Error::InvalidArgument(format!("the {what} is {} bytes long; at most {MAX_KEY_LEN} are allowed", s.len())));
    }
    Ok(())
}

/// The subject's plan and its state at `now`, after any window rollover (not stored).
fn current<'p>(plans: &'p Plans, state: Option<&SubjectState>, now: DateTime<Utc>) -> Result<(&'p Plan, SubjectState)> {
    let Some(state) = state else {
        let plan = plans.default_plan();
        let s = SubjectState { plan: plan.name.clone(), window_start: plan.window.start(now), epoch: 0, used: 0, bonus: 0 };
        return Ok((plan, s));
    };
    let plan = plans.get(&state.plan).ok_or_else(|| {
        Error::InvalidArgument(format!("the subject is on plan {:?}, which is not defined any more; move it with set_plan", state.plan))
    })?;
    let mut s = state.clone();
    match (s.window_start, plan.window.start(now)) {
        // A lifetime plan: the counters go on.
        (_, None) => s.window_start = None,
        // A later window: start again.
        (old, Some(new)) if old.is_none_or(|old| new > old) => {
            s.window_start = Some(new);
            s.epoch = s.epoch.saturating_add(1);
            s.used = 0;
            s.bonus = 0;
        }
        // The same window, or the clock went backwards: stay in the stored window.
        _ => {}
    }
    Ok((plan, s))
}

fn effective_limit(plan: &Plan, s: &SubjectState) -> Option<u64> {
    plan.limit.map(|l| l.saturating_add(s.bonus))
}

fn usage(subject: &str, plan: &Plan, s: &SubjectState, now: DateTime<Utc>) -> Usage {
    let limit = effective_limit(plan, s);
    Usage {
        subject: subject.to_owned(),
        plan: plan.name.clone(),
        used: s.used,
        limit,
        granted: s.bonus,
        remaining: limit.map(|l| l.saturating_sub(s.used)),
        reset_at: plan.window.reset_at(now),
        epoch: s.epoch,
    }
}

/// The rules of one view, run by the store inside its transaction.
fn decide(plans: &Plans, now: DateTime<Utc>, subject: &str, code: &str, request_key: Option<&str>, input: ViewInput) -> Result<Verdict> {
    if let Some(prev) = input.previous {
        if prev.subject != subject || prev.code != code {
            return Err(Error::InvalidArgument(format!(
                "request key {:?} of subject {:?} was already used for code {:?}, not {code:?}",
                request_key.unwrap_or_default(),
                prev.subject,
                prev.code
            )));
        }
        return Ok(Verdict::Replay(Decision { replayed: true, ..prev }));
    }
    let (plan, mut s) = current(plans, input.state.as_ref(), now)?;
    let limit = effective_limit(plan, &s);
    let unlocked = plans.free_reviews() && input.unlocked_epoch == Some(s.epoch);
    let (allowed, charged) = if unlocked {
        (true, false)
    } else if limit.is_none_or(|l| s.used < l) {
        (true, true)
    } else {
        (false, false)
    };
    if charged {
        s.used = s.used.saturating_add(1);
    }
    let remaining = limit.map(|l| l.saturating_sub(s.used));
    let reset_at = plan.window.reset_at(now);
    let decision = Decision {
        subject: subject.to_owned(),
        code: code.to_owned(),
        allowed,
        charged,
        replayed: false,
        used: s.used,
        remaining,
        limit,
        plan: plan.name.clone(),
        reset_at,
        reason: reason(plan, allowed, unlocked, s.used, limit, reset_at),
    };
    Ok(Verdict::Record { state: s, decision, at: now })
}

fn views(n: u64) -> &'static str {
    if n == 1 {
        "view"
    } else {
        "views"
    }
}

/// The sentence a host shows with a decision.
fn reason(plan: &Plan, allowed: bool, unlocked: bool, used: u64, limit: Option<u64>, reset_at: Option<DateTime<Utc>>) -> String {
    let mut out = counts_reason(allowed, unlocked, used, limit);
    if limit.is_some_and(|l| l.saturating_sub(used) == 0) {
        if let Some(hint) = plan.hint.as_deref().filter(|h| !h.is_empty()) {
            out.push(' ');
            out.push_str(hint);
        }
        if let (Some(at), Some(tz)) = (reset_at, plan.window.tz()) {
            out.push_str(&format!(" Views reset at {}.", at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")));
        }
    }
    out
}

/// The part of [`reason`] that the counts alone determine: all of it while views remain (or
/// the plan is unlimited); the plan's hint and reset time follow once none remain.
fn counts_reason(allowed: bool, unlocked: bool, used: u64, limit: Option<u64>) -> String {
    let mut out = String::with_capacity(64);
    write_counts_reason(&mut out, allowed, unlocked, used, limit);
    out
}

/// Where the pieces of a reason sentence go: a `String` builds the sentence, a [`Matcher`]
/// compares it with one, without building it.
trait Sentence {
    fn text(&mut self, s: &str);

    fn number(&mut self, n: u64) {
        self.text(itoa::Buffer::new().format(n));
    }
}

impl Sentence for String {
    fn text(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Compares the pieces it is given with the start of `rest`, piece by piece.
struct Matcher<'a> {
    rest: Option<&'a str>,
}

impl Sentence for Matcher<'_> {
    fn text(&mut self, s: &str) {
        self.rest = self.rest.and_then(|rest| rest.strip_prefix(s));
    }
}

/// The sentence of [`counts_reason`], piece by piece.
fn write_counts_reason(out: &mut impl Sentence, allowed: bool, unlocked: bool, used: u64, limit: Option<u64>) {
    if unlocked {
        out.text("Already unlocked; not charged. ");
    }
    let Some(limit) = limit else {
        out.text("Unlimited code page views.");
        return;
    };
    let remaining = limit.saturating_sub(used);
    if allowed {
        // "{used} of {limit} code page views used; {remaining} remaining."
        out.number(used);
        out.text(" of ");
        out.number(limit);
        out.text(" code page ");
        out.text(views(limit));
        out.text(" used; ");
        out.number(remaining);
        out.text(" remaining.");
    } else {
        // "{remaining} code page views remaining."
        out.number(remaining);
        out.text(" code page ");
        out.text(views(remaining));
        out.text(" remaining.");
    }
}

/// The reason of a recorded decision, rebuilt from its counts when they determine it (see
/// [`counts_reason`]); `None` when it also depends on the plan (no views remain). A store may
/// keep the reason only of the decisions where this is not exactly their reason, and rebuild
/// the others on replay.
///
/// The wording of these sentences is part of the stored format: changing it changes what the
/// replays of recorded decisions return.
pub(crate) fn rebuilt_reason(allowed: bool, charged: bool, used: u64, limit: Option<u64>) -> Option<String> {
    if limit.is_some_and(|l| l.saturating_sub(used) == 0) {
        return None;
    }
    Some(counts_reason(allowed, allowed && !charged, used, limit))
}

/// Whether `reason` is exactly what [`rebuilt_reason`] rebuilds from these counts (`false` when
/// it rebuilds nothing), compared without building it: the store's test of whether a decision's
/// reason must be stored.
pub(crate) fn is_rebuilt_reason(reason: &str, allowed: bool, charged: bool, used: u64, limit: Option<u64>) -> bool {
    if limit.is_some_and(|l| l.saturating_sub(used) == 0) {
        return false;
    }
    let mut matcher = Matcher { rest: Some(reason) };
    write_counts_reason(&mut matcher, allowed, allowed && !charged, used, limit);
    matcher.rest == Some("")
}

#[cfg(test)]
mod tests;
