//! [`SqliteStore`]: the embedded [`QuotaStore`], one SQLite file shared by every thread and
//! process that opens it.
//!
//! - WAL journal, so readers never block the writer;
//! - every view and admin change is one `BEGIN IMMEDIATE` transaction: the write lock is taken
//!   before anything is read, so two processes can never both read "5 used" and both write 6;
//! - a busy timeout: a writer waits for the lock (default 5 s) before giving up with
//!   [`Error::Storage`];
//! - its connections go through the quota VFS (`vfs.rs`): the platform's default, except that
//!   the WAL frames of a commit are written with one system call instead of two per frame (the
//!   connections run with `cache_spill` off, so that frames are written only to commit);
//! - checkpoints off the callers' path: a file store runs them on a background thread with its
//!   own connection (`checkpoint.rs`), stopped and joined when the store is dropped;
//! - the schema version lives in `PRAGMA user_version` and the file is tagged with
//!   `PRAGMA application_id`; migrations run in one transaction at open, and a file from a newer
//!   version of the library is refused rather than misread.
//!
//! Schema (version 2), every table clustered by subject (`WITHOUT ROWID`):
//!
//! ```sql
//! subjects(subject PRIMARY KEY, plan, window_start NULL, epoch, used, bonus,
//!          views, updated_at)                 -- views: ledger rows so far
//! unlocks(subject, code, epoch, PRIMARY KEY (subject, code))
//! ledger(subject, rkey, seq, code, at, epoch, keyed, allowed, charged, plan, used,
//!        view_limit NULL, reset_at NULL, reason,
//!        PRIMARY KEY (subject, rkey))         -- rkey: the request key (TEXT), or seq
//! ```
//!
//! The ledger's key doubles as the request-key index, so request keys are scoped to their
//! subject, and a charged view writes three b-tree pages (subject, unlock, ledger row). A ledger
//! row keeps what a replay returns, and no more: `remaining` is `view_limit - used`, and the
//! `reason` is stored only when the counts do not rebuild it, `''` otherwise (see `MIGRATIONS`).
//!
//! Times are microseconds since the Unix epoch, UTC.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, PrepFlags, Statement};

use super::checkpoint::{self, Checkpointer};
use super::store::{BatchDecideFn, ChangeFn, DecideFn, QuotaStore, SubjectState, Verdict, ViewInput};
use super::vfs;
use super::{is_rebuilt_reason, rebuilt_reason, Decision, LedgerEntry, ViewRequest};
use crate::error::{Error, Result};

/// `PRAGMA application_id` of a quota file ("CLQT").
pub(super) const APPLICATION_ID: i32 = 0x434C_5154;

/// Migration `i` takes the schema from version `i` to version `i + 1`.
///
/// 1. Every table is clustered by subject (`WITHOUT ROWID`, subject first in the key), so that
///    a view writes three b-tree pages: the subject's row, its unlock, and its ledger row, which
///    is also the request-key index.
/// 2. Slimmer ledger rows (fewer pages, so fewer page-cache misses as the ledger grows): no
///    `remaining` column (it is `view_limit - used`). New rows also store the `reason` as `''`
///    when the counts rebuild it exactly (`rebuilt_reason`), i.e. unless no views remain (a
///    reason is never empty); rows of version 1 keep theirs.
pub(super) const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE subjects (
        subject      TEXT NOT NULL PRIMARY KEY,
        plan         TEXT NOT NULL,
        window_start INTEGER,
        epoch        INTEGER NOT NULL,
        used         INTEGER NOT NULL,
        bonus        INTEGER NOT NULL,
        views        INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE unlocks (
        subject TEXT NOT NULL,
        code    TEXT NOT NULL,
        epoch   INTEGER NOT NULL,
        PRIMARY KEY (subject, code)
    ) WITHOUT ROWID;
    CREATE TABLE ledger (
        subject    TEXT NOT NULL,
        rkey       NOT NULL,
        seq        INTEGER NOT NULL,
        code       TEXT NOT NULL,
        at         INTEGER NOT NULL,
        epoch      INTEGER NOT NULL,
        keyed      INTEGER NOT NULL,
        allowed    INTEGER NOT NULL,
        charged    INTEGER NOT NULL,
        plan       TEXT NOT NULL,
        used       INTEGER NOT NULL,
        view_limit INTEGER,
        remaining  INTEGER,
        reset_at   INTEGER,
        reason     TEXT NOT NULL,
        PRIMARY KEY (subject, rkey)
    ) WITHOUT ROWID;
",
    "
    ALTER TABLE ledger DROP COLUMN remaining;
",
];

/// The schema version this library writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Page size of new files (a file keeps the page size it was created with). Small pages keep
/// the bytes a view writes to the WAL (three pages and those of the splits) and later copies
/// into the file at a checkpoint low; pages hold more rows with 2 KiB than with 1 KiB, so a
/// view splits pages and misses SQLite's page cache less often: 7% fewer instructions and a
/// third fewer `pread`s per view in the worst case of the bench, for two thirds more bytes per
/// view in the WAL (see BENCHMARKS.md).
const PAGE_SIZE: i64 = 2048;

/// WAL frames (pages) at which the store's checkpointer thread (see `checkpoint.rs`; without
/// one, the committing caller) checkpoints it into the database file: 32 MiB of WAL with the
/// 2 KiB pages of new files, 16 MiB with the 1 KiB pages of files of earlier releases, a few
/// thousand worst-case decisions either way. Larger means fewer checkpoints (each one fsyncs
/// twice under `synchronous=NORMAL`, and the writers wait for its last step) and more page
/// writes merged into one.
///
/// The largest WAL file left on disk after a checkpoint (`PRAGMA journal_size_limit`) is
/// `checkpoint::FALLBACK_FACTOR` times this, the bound at which callers checkpoint themselves,
/// so that the WAL is not truncated (by the first commit after a checkpoint, on a caller's path)
/// in normal operation, only after it outgrew that bound; the checkpointer's rounds let it grow
/// past the threshold while they run.
const CHECKPOINT_FRAMES: i64 = 16 << 10;

/// How hard a commit pushes data to the disk (`PRAGMA synchronous`). See the module's
/// `# Durability` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=NORMAL` (the default): no fsync per commit. A committed decision survives a
    /// crash or `SIGKILL` of the process; a power loss or OS crash may roll back the decisions
    /// committed since the last checkpoint, never corrupting the file.
    #[default]
    Normal,
    /// `synchronous=FULL`: fsync the WAL at every commit; a committed decision also survives a
    /// power loss, at the cost of one fsync per view.
    Full,
}

/// Options of [`SqliteStore::open_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How long a call waits for another connection's write lock before failing with
    /// [`Error::Storage`] (default 5 s).
    pub busy_timeout: Duration,
    /// Commit durability (default [`Synchronous::Normal`]).
    pub synchronous: Synchronous,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { busy_timeout: Duration::from_secs(5), synchronous: Synchronous::Normal }
    }
}

/// The embedded quota store: one SQLite file (or `:memory:`), safe to share between threads
/// (one connection behind a mutex) and between processes (SQLite's file locks). A file store
/// also runs one background thread, which checkpoints the WAL into the file; dropping the store
/// stops and joins it.
///
/// ```
/// use codelookup::quota::{Plans, Quota, SqliteOptions, SqliteStore, Synchronous, SystemClock};
/// use std::{sync::Arc, time::Duration};
///
/// let path = std::env::temp_dir().join(format!("codelookup-doc-sqlite-{}.db", std::process::id()));
/// let opts = SqliteOptions { busy_timeout: Duration::from_secs(2), synchronous: Synchronous::Full };
/// let store = SqliteStore::open_with(&path, &opts)?;
/// let quota = Quota::with_store(store, Plans::default(), Arc::new(SystemClock));
/// assert!(quota.view("ip:203.0.113.9", "E11.9", None)?.allowed);
/// # drop(quota);
/// # for ext in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{ext}", path.display())); }
/// # Ok::<(), codelookup::Error>(())
/// ```
pub struct SqliteStore {
    conn: Arc<Mutex<Writer>>,
    ctx: Ctx,
    /// The background checkpointer (`None` for an in-memory database, or when its thread or
    /// connection could not be started: SQLite's autocheckpoint then stays on).
    pub(super) checkpointer: Option<Checkpointer>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some(mut c) = self.checkpointer.take() {
            c.stop(&self.conn);
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.ctx.path).finish_non_exhaustive()
    }
}

/// What error messages need to know.
#[derive(Clone, Debug)]
struct Ctx {
    path: String,
    busy_timeout: Duration,
}

impl Ctx {
    /// An [`Error::Storage`] that says what is wrong with the file.
    fn err(&self, e: rusqlite::Error) -> Error {
        let p = &self.path;
        let msg = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => format!(
                "quota database {p} is locked by another connection and stayed locked longer \
                 than the busy timeout ({} ms): {e}",
                self.busy_timeout.as_millis()
            ),
            Some(ErrorCode::ReadOnly) => format!(
                "quota database {p} is read-only (the file or its directory is not writable, \
                 or it was opened read-only), and the quota must write: {e}"
            ),
            Some(ErrorCode::NotADatabase) => format!(
                "{p} is not a SQLite database (wrong path, or the file was overwritten or is \
                 encrypted): {e}"
            ),
            Some(ErrorCode::DatabaseCorrupt) => format!(
                "quota database {p} is corrupt: {e}; restore it from a backup, or move it away \
                 to start again with empty counters"
            ),
            Some(ErrorCode::CannotOpen) => format!("cannot open quota database {p} (does its directory exist, is it writable?): {e}"),
            Some(ErrorCode::DiskFull) => format!("disk full while writing quota database {p}: {e}"),
            Some(ErrorCode::SystemIoFailure) => format!("I/O error on quota database {p}: {e}"),
            _ => format!("quota database {p}: {e}"),
        };
        Error::Storage(msg)
    }

    fn storage(&self, what: impl std::fmt::Display) -> Error {
        Error::Storage(format!("quota database {}: {what}", self.path))
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked))
}

impl SqliteStore {
    /// Opens (creating if needed) the quota file at `path` with default options.
    ///
    /// `path` may be `:memory:` (a private in-memory database, for tests) or a SQLite URI
    /// (`file:quota.db?mode=ro`). Errors with [`Error::Storage`] when the file is read-only,
    /// is not a SQLite database, is corrupt, is another application's database, has a schema
    /// newer than this library, or stays locked longer than the busy timeout.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, &SqliteOptions::default())
    }

    /// Opens (creating if needed) the quota file at `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<SqliteStore> {
        SqliteStore::open_checkpointing_at(path.as_ref(), options, CHECKPOINT_FRAMES)
    }

    /// [`SqliteStore::open_with`], checkpointing every `checkpoint_pages` frames of WAL.
    pub(super) fn open_checkpointing_at(path: &Path, options: &SqliteOptions, checkpoint_pages: i64) -> Result<SqliteStore> {
        let ctx = Ctx { path: path.display().to_string(), busy_timeout: options.busy_timeout };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = connect(path, flags).map_err(|e| ctx.err(e))?;
        conn.busy_timeout(options.busy_timeout).map_err(|e| ctx.err(e))?;
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(|e| ctx.err(e))? {
            return Err(ctx.storage(
                "is read-only (the file or its directory is not writable, or it was opened \
                 read-only), and the quota must write",
            ));
        }
        // The first read of the header: a file that is not a database fails here.
        let (app_id, version) = header(&conn).map_err(|e| ctx.err(e))?;
        check_header(&ctx, app_id, version)?;
        if version == 0 {
            // Only takes effect on a new, empty file (before WAL mode is set).
            conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(|e| ctx.err(e))?;
        }
        set_wal(&conn, &ctx)?;
        let sync = match options.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync).map_err(|e| ctx.err(e))?;
        let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0)).map_err(|e| ctx.err(e))?;
        let checkpoint_pages = checkpoint_pages.max(1);
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint_pages).map_err(|e| ctx.err(e))?;
        let wal_size_limit = checkpoint_pages.saturating_mul(page_size).saturating_mul(checkpoint::FALLBACK_FACTOR);
        conn.pragma_update(None, "journal_size_limit", wal_size_limit).map_err(|e| ctx.err(e))?;
        if version < SCHEMA_VERSION || app_id != APPLICATION_ID {
            migrate(&conn, &ctx)?;
        }
        conn.set_prepared_statement_cache_capacity(32);
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).map_err(|e| ctx.err(e))?;
        let conn = Arc::new(Mutex::new(Writer::new(conn).map_err(|e| ctx.err(e))?));
        let checkpointer = if mode.eq_ignore_ascii_case("wal") && !path.as_os_str().is_empty() {
            start_checkpointer(path, flags, options, sync, &conn, checkpoint_pages)
        } else {
            None
        };
        Ok(SqliteStore { conn, ctx, checkpointer })
    }

    /// The path the store was opened with, as given.
    pub fn path(&self) -> &str {
        &self.ctx.path
    }

    /// After a commit on `conn` (the store's connection, locked): the caller checkpoints itself
    /// when the background checkpointer has fallen behind (see `checkpoint`). Its errors are
    /// ignored: the commit is done, and a checkpoint is crash-safe.
    fn committed(&self, conn: &Connection) {
        if self.checkpointer.as_ref().is_some_and(|c| c.wal().caller_should_checkpoint()) {
            let _ = checkpoint::checkpoint(conn, "PASSIVE");
        }
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction of the store's connection, with its
    /// prepared statements, and commits; an error of `f` rolls everything back. Then
    /// [`SqliteStore::committed`].
    fn write<R>(&self, f: impl for<'c> FnOnce(&'c Connection, &mut Statements<'c>) -> Result<R>) -> Result<R> {
        let ctx = &self.ctx;
        let mut writer = self.conn();
        let out = writer.with(|conn, st| {
            let tx = Tx::begin(conn, &mut st.begin).map_err(|e| ctx.err(e))?;
            // An error drops `tx`, which rolls back.
            let out = f(conn, st)?;
            tx.commit(&mut st.commit).map_err(|e| ctx.err(e))?;
            Ok(out)
        })?;
        self.committed(&writer);
        Ok(out)
    }

    /// The connection, also after a panic of another thread that held it (its transaction, if
    /// any, was rolled back when the panic dropped it; roll back here in case it was not).
    pub(super) fn conn(&self) -> MutexGuard<'_, Writer> {
        let guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if !guard.is_autocommit() {
            let _ = guard.execute_batch("ROLLBACK");
        }
        guard
    }
}

/// Moves the checkpoints of `writer` (the store's connection) to a background thread with its
/// own connection; `None` (SQLite's autocheckpoint stays on) when that connection or thread
/// cannot be had.
fn start_checkpointer(
    path: &Path,
    flags: OpenFlags,
    options: &SqliteOptions,
    sync: &str,
    writer: &Arc<Mutex<Writer>>,
    pages: i64,
) -> Option<Checkpointer> {
    let own = connect(path, flags - OpenFlags::SQLITE_OPEN_CREATE).ok()?;
    own.busy_timeout(options.busy_timeout.min(checkpoint::FULL_WAIT)).ok()?;
    own.pragma_update(None, "synchronous", sync).ok()?;
    // The autocheckpoint's hook is replaced by the checkpointer's; off until then.
    let conn = writer.lock().unwrap_or_else(PoisonError::into_inner);
    conn.pragma_update(None, "wal_autocheckpoint", 0).ok()?;
    drop(conn);
    match Checkpointer::start(writer, own, pages) {
        Ok(c) => Some(c),
        Err(_) => {
            let conn = writer.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = conn.pragma_update(None, "wal_autocheckpoint", pages);
            None
        }
    }
}

/// A connection to `path` through the quota VFS (see `vfs.rs`), or the default VFS if it could
/// not be registered; with `cache_spill` off, so that SQLite writes WAL frames only to commit a
/// transaction (never the pages of one in progress, which the VFS would hold, when the cache
/// fills up: a transaction keeps its changed pages in memory, however many).
fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = match vfs::name() {
        Some(name) => Connection::open_with_flags_and_vfs(path, flags, name)?,
        None => Connection::open_with_flags(path, flags)?,
    };
    conn.pragma_update(None, "cache_spill", false)?;
    Ok(conn)
}

fn header(conn: &Connection) -> rusqlite::Result<(i32, i64)> {
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok((app_id, version))
}

fn check_header(ctx: &Ctx, app_id: i32, version: i64) -> Result<()> {
    if app_id != APPLICATION_ID && app_id != 0 {
        return Err(ctx.storage(format!(
            "is another application's SQLite database (application_id {app_id:#x}), not a \
             codelookup quota file"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(ctx.storage(format!(
            "has schema version {version}, newer than the version {SCHEMA_VERSION} this \
             library reads; it was written by a newer codelookup: upgrade codelookup"
        )));
    }
    if app_id == 0 && version != 0 {
        return Err(ctx.storage(format!(
            "is a SQLite database of another application (user_version {version}), not a \
             codelookup quota file"
        )));
    }
    Ok(())
}

/// Switches the file to WAL (persistent in the file), waiting out other processes that open it
/// at the same moment.
fn set_wal(conn: &Connection, ctx: &Ctx) -> Result<()> {
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).map_err(|e| ctx.err(e))?;
    if mode.eq_ignore_ascii_case("wal") || mode.eq_ignore_ascii_case("memory") {
        return Ok(());
    }
    let deadline = Instant::now() + ctx.busy_timeout;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(m) if m.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(m) => {
                return Err(ctx.storage(format!(
                    "cannot switch to WAL journal mode (still {m}); is it on a network file \
                     system?"
                )))
            }
            Err(e) if is_busy(&e) && Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(ctx.err(e)),
        }
    }
}

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction (another process may be doing the
/// same: the header is read again under the write lock).
fn migrate(conn: &Connection, ctx: &Ctx) -> Result<()> {
    let run = || -> Result<()> {
        let (app_id, version) = header(conn).map_err(|e| ctx.err(e))?;
        check_header(ctx, app_id, version)?;
        if app_id == 0 {
            let tables: i64 =
                conn.query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0)).map_err(|e| ctx.err(e))?;
            if tables > 0 {
                return Err(ctx.storage("already holds tables of another application; not a codelookup quota file"));
            }
        }
        let from = usize::try_from(version).unwrap_or(0);
        for sql in MIGRATIONS.iter().skip(from) {
            conn.execute_batch(sql).map_err(|e| ctx.err(e))?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|e| ctx.err(e))?;
        conn.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| ctx.err(e))?;
        Ok(())
    };
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| ctx.err(e))?;
    match run() {
        Ok(()) => conn.execute_batch("COMMIT").map_err(|e| ctx.err(e)),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A count as SQLite stores it (counts never come near `i64::MAX`; clamp rather than fail).
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(v).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The SQL of [`Statements::begin`]: the write lock is taken before anything is read.
const BEGIN: &str = "BEGIN IMMEDIATE";

/// The SQL of [`Statements::commit`].
const COMMIT: &str = "COMMIT";

/// The statements of the store's connection that a view runs (begin, the read, the three
/// writes, commit), prepared once for the life of the connection. Through rusqlite's statement
/// cache (`prepare_cached`) each use of one hashed its SQL text twice, copied it and moved it in
/// the cache's LRU list, and cleared its bindings: about 9% of a view's instructions.
struct Statements<'c> {
    begin: Statement<'c>,
    commit: Statement<'c>,
    view_input: Statement<'c>,
    update_subject: Statement<'c>,
    save_state: Statement<'c>,
    unlock: Statement<'c>,
    ledger_row: Statement<'c>,
}

impl<'c> Statements<'c> {
    /// Prepares them on `conn`, whose schema must be current (after `migrate`).
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        let prepare = |sql: &str| conn.prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT);
        Ok(Statements {
            begin: prepare(BEGIN)?,
            commit: prepare(COMMIT)?,
            view_input: prepare(VIEW_INPUT)?,
            update_subject: prepare(UPDATE_SUBJECT)?,
            save_state: prepare(SAVE_STATE)?,
            unlock: prepare(UNLOCK)?,
            ledger_row: prepare(LEDGER_ROW)?,
        })
    }
}

self_cell::self_cell!(
    /// The store's connection and its [`Statements`], which borrow it.
    struct WriterCell {
        owner: Connection,
        #[covariant]
        dependent: Statements,
    }
);

/// The store's connection (its methods through `Deref`) with the statements of a view
/// prepared on it; shared with the checkpointer thread behind the store's mutex.
pub(super) struct Writer(WriterCell);

// SAFETY: `Writer` is not `Send` by itself only because its statements hold `&Connection`
// (`Connection` is `Send` but not `Sync`) and raw `sqlite3_stmt` pointers. Those references
// point at the connection inside the same cell, so they always move to another thread together
// with it: nothing outside the cell refers to the connection or its statements, and `Writer` is
// not `Sync`, so one thread at a time uses them (the store's mutex). The connection is opened
// with `SQLITE_OPEN_NO_MUTEX` (SQLite's multi-thread mode), in which a connection and its
// statements may be used from any thread, one thread at a time; that is what makes
// `Connection` itself `Send`.
unsafe impl Send for Writer {}

impl Writer {
    /// `conn` with its statements prepared (its schema must be current).
    fn new(conn: Connection) -> rusqlite::Result<Writer> {
        WriterCell::try_new(conn, |c| Statements::prepare(c)).map(Writer)
    }

    /// Runs `f` with the connection and its statements.
    fn with<R>(&mut self, f: impl for<'c> FnOnce(&'c Connection, &mut Statements<'c>) -> Result<R>) -> Result<R> {
        self.0.with_dependent_mut(|conn, statements| f(conn, statements))
    }
}

impl std::ops::Deref for Writer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0.borrow_owner()
    }
}

/// A `BEGIN IMMEDIATE` transaction (taking the write lock before reading), begun and committed
/// with the connection's prepared [`Statements`]; rolls back when dropped uncommitted.
struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Tx<'c> {
    fn begin(conn: &'c Connection, begin: &mut Statement<'c>) -> rusqlite::Result<Tx<'c>> {
        begin.execute([])?;
        Ok(Tx { conn, open: true })
    }

    fn commit(mut self, commit: &mut Statement<'c>) -> rusqlite::Result<()> {
        commit.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn load_state(conn: &Connection, subject: &str) -> rusqlite::Result<Option<SubjectState>> {
    conn.prepare_cached("SELECT plan, window_start, epoch, used, bonus FROM subjects WHERE subject = ?1")?
        .query_row([subject], |r| state_at(r, 0))
        .optional()
        .map(Option::flatten)
}

/// A subject's state from the columns `plan, window_start, epoch, used, bonus` of `row`,
/// starting at column `first`; `None` when they are `NULL` (no such subject, in a left join).
fn state_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<SubjectState>> {
    let Some(plan) = row.get::<_, Option<String>>(first)? else { return Ok(None) };
    Ok(Some(SubjectState {
        plan,
        window_start: row.get::<_, Option<i64>>(first + 1)?.map(from_micros),
        epoch: to_u64(row.get(first + 2)?),
        used: to_u64(row.get(first + 3)?),
        bonus: to_u64(row.get(first + 4)?),
    }))
}

/// The SQL of [`save_state`].
const SAVE_STATE: &str = "INSERT INTO subjects (subject, plan, window_start, epoch, used, bonus, views, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (subject) DO UPDATE SET plan = excluded.plan,
         window_start = excluded.window_start, epoch = excluded.epoch, used = excluded.used,
         bonus = excluded.bonus, views = views + excluded.views,
         updated_at = excluded.updated_at";

/// Stores the subject's state (`st`: [`SAVE_STATE`]); with `count_view`, also counts one more
/// ledger row (the caller knows the count it read in the same transaction: no `RETURNING`,
/// which costs SQLite a temporary b-tree per statement, about a tenth of a view's
/// instructions).
fn save_state(st: &mut Statement<'_>, subject: &str, s: &SubjectState, now: DateTime<Utc>, count_view: bool) -> rusqlite::Result<()> {
    st.execute(params![
        subject,
        s.plan,
        s.window_start.map(micros),
        to_i64(s.epoch),
        to_i64(s.used),
        to_i64(s.bonus),
        i64::from(count_view),
        micros(now),
    ])?;
    Ok(())
}

/// The SQL of [`view_input`]. `(SELECT 1)` gives one row whichever of the three is missing; a
/// `NULL` key matches no ledger row.
const VIEW_INPUT: &str = "SELECT l.code, l.allowed, l.charged, l.used, l.view_limit, l.plan, l.reset_at, l.reason,
            s.plan, s.window_start, s.epoch, s.used, s.bonus, u.epoch, s.views
     FROM (SELECT 1)
     LEFT JOIN ledger l ON l.subject = ?1 AND l.rkey = ?3
     LEFT JOIN subjects s ON s.subject = ?1
     LEFT JOIN unlocks u ON u.subject = ?1 AND u.code = ?2";

/// What `decide` needs for one view, read with one statement (`st`: [`VIEW_INPUT`]): the
/// decision recorded under the subject's request key (if the call has one and it was seen
/// before), the subject's state, and the epoch the code was last unlocked in; and the subject's
/// ledger rows so far (`views`, `None` for a new subject). A recorded decision's reason is rebuilt from its counts when the row has
/// none (`''`, see `MIGRATIONS`).
fn view_input(st: &mut Statement<'_>, ctx: &Ctx, subject: &str, code: &str, request_key: Option<&str>) -> Result<(ViewInput, Option<i64>)> {
    let (recorded, state, unlocked_epoch, views) = st
        .query_row(params![subject, code, request_key], |r| {
            let recorded = match r.get::<_, Option<String>>(0)? {
                None => None,
                Some(code) => {
                    let (allowed, charged, used) = (r.get(1)?, r.get(2)?, to_u64(r.get(3)?));
                    let limit = r.get::<_, Option<i64>>(4)?.map(to_u64);
                    let d = Decision {
                        subject: subject.to_owned(),
                        code,
                        allowed,
                        charged,
                        replayed: false,
                        used,
                        remaining: remaining(limit, used),
                        limit,
                        plan: r.get(5)?,
                        reset_at: r.get::<_, Option<i64>>(6)?.map(from_micros),
                        reason: String::new(),
                    };
                    Some((d, r.get::<_, String>(7)?))
                }
            };
            Ok((recorded, state_at(r, 8)?, r.get::<_, Option<i64>>(13)?.map(to_u64), r.get::<_, Option<i64>>(14)?))
        })
        .map_err(|e| ctx.err(e))?;
    let previous = match recorded {
        None => None,
        Some((mut d, reason)) => {
            d.reason = match Some(reason).filter(|r| !r.is_empty()).or_else(|| rebuilt_reason(d.allowed, d.charged, d.used, d.limit)) {
                Some(reason) => reason,
                None => {
                    let key = request_key.unwrap_or_default();
                    return Err(
                        ctx.storage(format!("is corrupt: the ledger row of request key {key:?} of subject {subject:?} has no reason"))
                    );
                }
            };
            Some(d)
        }
    };
    Ok((ViewInput { previous, state, unlocked_epoch }, views))
}

/// Views left after a decision with `used` views of `limit` (as `decide` computes it).
fn remaining(limit: Option<u64>, used: u64) -> Option<u64> {
    limit.map(|l| l.saturating_sub(used))
}

/// The SQL of [`Statements::update_subject`] (`?1` the subject, `?2..?7` its new state and
/// time): a known subject's row, one more ledger row counted.
const UPDATE_SUBJECT: &str = "UPDATE subjects SET plan = ?2, window_start = ?3, epoch = ?4, used = ?5, bonus = ?6,
         views = views + 1, updated_at = ?7
     WHERE subject = ?1";

/// The SQL of [`Statements::unlock`]: the code unlocked in the epoch.
const UNLOCK: &str = "INSERT INTO unlocks (subject, code, epoch) VALUES (?1, ?2, ?3)
     ON CONFLICT (subject, code) DO UPDATE SET epoch = excluded.epoch";

/// The SQL of [`Statements::ledger_row`].
const LEDGER_ROW: &str = "INSERT INTO ledger (subject, rkey, seq, code, at, epoch, keyed, allowed, charged, plan,
         used, view_limit, reset_at, reason)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// Writes a recorded view: the subject's state, the unlock, the ledger row; `views` is the
/// subject's count of ledger rows read in the same transaction (`None`: no row yet).
#[allow(clippy::too_many_arguments)]
fn record(
    st: &mut Statements<'_>,
    subject: &str,
    code: &str,
    request_key: Option<&str>,
    views: Option<i64>,
    state: &SubjectState,
    decision: &Decision,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    // A known subject's row is updated (one b-tree search, where the upsert makes two); a new
    // one is inserted. The row was read in this transaction, under the write lock: it is there.
    if views.is_some() {
        let changed = st.update_subject.execute(params![
            subject,
            state.plan,
            state.window_start.map(micros),
            to_i64(state.epoch),
            to_i64(state.used),
            to_i64(state.bonus),
            micros(at),
        ])?;
        if changed != 1 {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
    } else {
        save_state(&mut st.save_state, subject, state, at, true)?;
    }
    let seq = views.unwrap_or(0).saturating_add(1);
    if decision.charged {
        st.unlock.execute(params![subject, code, to_i64(state.epoch)])?;
    }
    // Only a reason the counts do not rebuild exactly is stored (see `MIGRATIONS`).
    let rebuilt = is_rebuilt_reason(&decision.reason, decision.allowed, decision.charged, decision.used, decision.limit);
    let stored_reason = if rebuilt { "" } else { decision.reason.as_str() };
    // A call without a request key is keyed by its sequence number: an INTEGER, which never
    // equals a TEXT request key.
    let rkey: &dyn rusqlite::ToSql = match &request_key {
        Some(k) => k,
        None => &seq,
    };
    st.ledger_row.execute(params![
        subject,
        rkey,
        seq,
        code,
        micros(at),
        to_i64(state.epoch),
        request_key.is_some(),
        decision.allowed,
        decision.charged,
        decision.plan,
        to_i64(decision.used),
        decision.limit.map(to_i64),
        decision.reset_at.map(micros),
        stored_reason,
    ])?;
    Ok(())
}

/// One view inside an open transaction (of the connection of `st`): read what `decide` needs
/// (what earlier writes of the same transaction wrote included), decide, write. An error
/// leaves the rollback to the caller.
fn view_in(
    st: &mut Statements<'_>,
    ctx: &Ctx,
    subject: &str,
    code: &str,
    request_key: Option<&str>,
    decide: &dyn Fn(ViewInput) -> Result<Verdict>,
) -> Result<Decision> {
    let (input, views) = view_input(&mut st.view_input, ctx, subject, code, request_key)?;
    match decide(input)? {
        Verdict::Replay(decision) => Ok(decision),
        Verdict::Record { state, decision, at } => {
            record(st, subject, code, request_key, views, &state, &decision, at).map_err(|e| ctx.err(e))?;
            Ok(decision)
        }
    }
}

impl QuotaStore for SqliteStore {
    fn view(&self, subject: &str, code: &str, request_key: Option<&str>, decide: &DecideFn<'_>) -> Result<Decision> {
        // A replay wrote nothing: its commit is free.
        self.write(|_, st| view_in(st, &self.ctx, subject, code, request_key, decide))
    }

    /// The whole batch in one `BEGIN IMMEDIATE` transaction: all or nothing.
    fn view_many(&self, requests: &[ViewRequest<'_>], decide: &BatchDecideFn<'_>) -> Result<Vec<Decision>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|_, st| {
            let mut decisions = Vec::with_capacity(requests.len());
            for (i, r) in requests.iter().enumerate() {
                decisions.push(view_in(st, &self.ctx, r.subject, r.code, r.request_key, &|input| decide(i, input))?);
            }
            Ok(decisions)
        })
    }

    fn update(&self, subject: &str, at: DateTime<Utc>, change: &ChangeFn<'_>) -> Result<SubjectState> {
        let ctx = &self.ctx;
        self.write(|conn, st| {
            let old = load_state(conn, subject).map_err(|e| ctx.err(e))?;
            let new = change(old.as_ref())?;
            if old.as_ref() != Some(&new) {
                save_state(&mut st.save_state, subject, &new, at, false).map_err(|e| ctx.err(e))?;
            }
            Ok(new)
        })
    }

    fn load(&self, subject: &str) -> Result<Option<SubjectState>> {
        load_state(&self.conn(), subject).map_err(|e| self.ctx.err(e))
    }

    fn ledger(&self, subject: &str) -> Result<Vec<LedgerEntry>> {
        let ctx = &self.ctx;
        let conn = self.conn();
        let mut st = conn
            .prepare_cached(
                "SELECT seq, at, epoch, code, CASE WHEN keyed THEN rkey END, allowed, charged,
                        plan, used, view_limit
                 FROM ledger WHERE subject = ?1 ORDER BY seq",
            )
            .map_err(|e| ctx.err(e))?;
        let rows = st
            .query_map([subject], |r| {
                let (used, limit) = (to_u64(r.get(8)?), r.get::<_, Option<i64>>(9)?.map(to_u64));
                Ok(LedgerEntry {
                    seq: to_u64(r.get(0)?),
                    at: from_micros(r.get(1)?),
                    epoch: to_u64(r.get(2)?),
                    code: r.get(3)?,
                    request_key: r.get(4)?,
                    allowed: r.get(5)?,
                    charged: r.get(6)?,
                    plan: r.get(7)?,
                    used,
                    limit,
                    remaining: remaining(limit, used),
                })
            })
            .map_err(|e| ctx.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| ctx.err(e))
    }
}
