//! The storage trait behind [`Quota`](super::Quota): what a backend (the embedded SQLite file,
//! or later a PostgreSQL or Redis server) must do so that every backend has the same meaning.
//!
//! A store keeps three things per subject: its [`SubjectState`] (plan, window, counters), the
//! codes it unlocked in each window, and the ledger of its decisions (one row per view, with
//! the request key). It decides nothing: the plan and window rules live in the shared module
//! code and reach the store as a `decide` or `change` function that the store runs inside its
//! own atomic transaction.

use chrono::{DateTime, Utc};

use super::{Decision, LedgerEntry, ViewRequest};
use crate::error::Result;

/// What a store keeps for one subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectState {
    /// The subject's plan name.
    pub plan: String,
    /// Start of the window the counters belong to (`None` for a lifetime window).
    pub window_start: Option<DateTime<Utc>>,
    /// Number of the window the counters belong to: 0 for the first, plus one at each window
    /// rollover or reset. Unlocks and ledger rows carry the epoch they were made in.
    pub epoch: u64,
    /// Views charged in this window.
    pub used: u64,
    /// Extra views granted in this window, on top of the plan's limit.
    pub bonus: u64,
}

/// What a store hands to the `decide` function of [`QuotaStore::view`], read inside the
/// transaction.
#[derive(Clone, Debug)]
pub struct ViewInput {
    /// The decision already recorded under the request key, if the call has a key and it was
    /// seen before. When it is `Some`, the store may leave the other fields empty.
    pub previous: Option<Decision>,
    /// The subject's state, or `None` for a subject never seen before.
    pub state: Option<SubjectState>,
    /// The epoch in which the subject last unlocked (was charged for) this code, if ever.
    pub unlocked_epoch: Option<u64>,
}

/// What the `decide` function of [`QuotaStore::view`] returns.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Return this (previously recorded) decision and write nothing.
    Replay(Decision),
    /// Record a new decision: store `state` as the subject's state (insert or replace), mark
    /// the code unlocked in `state.epoch` if `decision.charged`, and append a ledger row with
    /// the decision, `at`, `state.epoch` and the request key; then return `decision`.
    Record {
        /// The subject's new state.
        state: SubjectState,
        /// The decision to record and return.
        decision: Decision,
        /// The time of the decision (the ledger's time).
        at: DateTime<Utc>,
    },
}

/// The function a store runs inside its view transaction.
pub type DecideFn<'a> = dyn Fn(ViewInput) -> Result<Verdict> + 'a;

/// The function a store runs inside its batch transaction ([`QuotaStore::view_many`]): the
/// `decide` function of request `i` of the batch.
pub type BatchDecideFn<'a> = dyn Fn(usize, ViewInput) -> Result<Verdict> + 'a;

/// The function a store runs inside its admin transaction: the subject's current state
/// (`None` if never seen) to its new state.
pub type ChangeFn<'a> = dyn Fn(Option<&SubjectState>) -> Result<SubjectState> + 'a;

/// A backend for [`Quota`](super::Quota).
///
/// Implementations must make [`view`](QuotaStore::view) and [`update`](QuotaStore::update)
/// atomic and isolated against every other call on the same data, from any thread or process:
/// read, call the function, write, all under one write lock or one serializable transaction,
/// all or nothing. An implementation that retries on conflicts (optimistic locking) may call the
/// function more than once; the functions are pure, so that is allowed.
///
/// A store reports its own failures as [`Error::Storage`](crate::Error::Storage) with a message
/// that says what is wrong (locked, read-only, corrupt, unreachable...), and passes through any
/// error the function returns, writing nothing.
pub trait QuotaStore: Send + Sync {
    /// One atomic check-and-charge. In one transaction:
    /// 1. if `request_key` is `Some` and has a recorded decision for this subject (keys are
    ///    scoped to their subject), call `decide` with it in [`ViewInput::previous`];
    /// 2. otherwise call `decide` with the subject's state and the epoch the code was last
    ///    unlocked in;
    /// 3. apply the [`Verdict`] and return its decision.
    fn view(&self, subject: &str, code: &str, request_key: Option<&str>, decide: &DecideFn<'_>) -> Result<Decision>;

    /// Many check-and-charges, in order: for each request `i`, what [`view`](QuotaStore::view)
    /// does with `|input| decide(i, input)`, each request seeing what the earlier ones of the
    /// batch wrote (so a repeated request key replays the decision made earlier in the batch).
    /// Returns the decisions in the order of `requests`.
    ///
    /// A store should run the whole batch in one transaction, all or nothing (an error from
    /// any request writes nothing), as [`SqliteStore`](super::SqliteStore) does. The default
    /// implementation calls [`view`](QuotaStore::view) once per request, so it is **not
    /// atomic**: an error stops at the failing request, and the requests before it stay
    /// committed.
    fn view_many(&self, requests: &[ViewRequest<'_>], decide: &BatchDecideFn<'_>) -> Result<Vec<Decision>> {
        requests.iter().enumerate().map(|(i, r)| self.view(r.subject, r.code, r.request_key, &|input| decide(i, input))).collect()
    }

    /// One atomic read-modify-write of a subject's state (plan changes, grants, resets): read
    /// the state, call `change`, store its result (as changed at `at`) and return it.
    fn update(&self, subject: &str, at: DateTime<Utc>, change: &ChangeFn<'_>) -> Result<SubjectState>;

    /// The subject's state, `None` if never seen.
    fn load(&self, subject: &str) -> Result<Option<SubjectState>>;

    /// Every ledger row of the subject, oldest first (in commit order).
    fn ledger(&self, subject: &str) -> Result<Vec<LedgerEntry>>;
}
