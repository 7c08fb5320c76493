//! The background checkpointer of a [`SqliteStore`](super::SqliteStore) file: a thread with its
//! own connection that copies the WAL into the database file, so that the commit crossing the
//! threshold does not pay for the checkpoint (two fsyncs and the copy of thousands of views'
//! pages) inside a caller's `view`.
//!
//! - The store's connection runs with `wal_autocheckpoint=0` and a WAL hook
//!   (`sqlite3_wal_hook`) that SQLite calls after each commit with the number of frames in the
//!   WAL (every process's); past [`Wal::threshold`] frames it wakes the thread (an `unpark`, no
//!   lock; once until the thread has served it).
//! - The thread first runs `PASSIVE` checkpoints, concurrently with the writers, round after
//!   round (each fsyncs the WAL and copies what was committed before it started) until at most
//!   [`CATCH_UP_FRAMES`] are left, or [`MAX_PASSIVE_ROUNDS`] rounds have run, or the WAL has
//!   grown to `FALLBACK_FACTOR - 1` times the threshold, or another connection (another
//!   process's checkpointer) is checkpointing; then a `FULL` one for the rest, while
//!   it holds the store's connection (so this process's writers wait on the mutex; other
//!   processes' writers wait on SQLite's write lock for the small remainder). Only a completed
//!   checkpoint lets the next writer restart the WAL from its beginning, which bounds the file.
//!   With a single `PASSIVE` round the writers waited 50 to 100 ms per checkpoint, for the
//!   fsync and copy of everything committed during that round; see BENCHMARKS.md. The `FULL`
//!   step waits at most [`FULL_WAIT`] for other connections' writers and readers, then gives up
//!   until the next round.
//! - A bound on WAL growth: if the WAL still reaches [`FALLBACK_FACTOR`] times the threshold
//!   (the thread starved of CPU, or gone), the committing caller checkpoints itself, as SQLite's
//!   autocheckpoint would; at most once per threshold's worth of new frames, since a reader that
//!   holds an old snapshot can keep any checkpoint from completing. This is not a hard bound:
//!   the caller's `PASSIVE` checkpoint gives up at once while the thread's round runs, so the
//!   WAL also holds what is committed during that round (16 times the threshold was seen with
//!   the thread short of CPU).
//! - Errors in the thread are ignored: a checkpoint is crash-safe in SQLite (an interrupted one
//!   is redone from the WAL), so a failed one only leaves the WAL longer.
//! - The store's `Drop` unhooks the WAL, stops and joins the thread.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{JoinHandle, Thread};

use rusqlite::{ffi, Connection};

use super::sqlite::Writer;

/// How long the `FULL` step (which holds the store's connection) waits for other connections.
pub(super) const FULL_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// The thread holds the writers off for the last step of a checkpoint once at most this many
/// frames are left to copy (or after [`MAX_PASSIVE_ROUNDS`] rounds alongside them).
pub(super) const CATCH_UP_FRAMES: i64 = 512;

/// At most this many `PASSIVE` rounds alongside the writers per checkpoint.
pub(super) const MAX_PASSIVE_ROUNDS: usize = 8;

/// The caller checkpoints itself when the WAL holds this many times the threshold.
pub(super) const FALLBACK_FACTOR: i64 = 4;

/// What the WAL hook and the thread share.
#[derive(Debug)]
pub(super) struct Wal {
    /// Frames (pages) of WAL at which the thread checkpoints.
    threshold: i64,
    /// Frames in the WAL after the last commit of the store's connection.
    frames: AtomicI64,
    /// The thread was woken and has not finished its round yet.
    requested: AtomicBool,
    stop: AtomicBool,
    thread: OnceLock<Thread>,
    /// The WAL size at which the caller may checkpoint itself next (see `caller_should_checkpoint`).
    fallback_at: AtomicI64,
}

impl Wal {
    /// Called after each commit of the store's connection (from the hook): cheap unless the WAL
    /// is past the threshold and the thread is idle.
    pub(super) fn committed(&self, frames: c_int) {
        let frames = i64::from(frames);
        self.frames.store(frames, Ordering::Relaxed);
        if frames >= self.threshold && !self.requested.swap(true, Ordering::AcqRel) {
            if let Some(t) = self.thread.get() {
                t.unpark();
            }
        }
    }

    /// Whether the thread stops its `PASSIVE` rounds after one that left `copied` frames of the
    /// WAL copied: at most [`CATCH_UP_FRAMES`] are left, or the WAL has grown to
    /// `FALLBACK_FACTOR - 1` times the threshold (the rounds are not catching up, and the callers
    /// would soon checkpoint themselves).
    pub(super) fn rounds_done(&self, copied: i64) -> bool {
        let frames = self.frames.load(Ordering::Relaxed);
        frames.saturating_sub(copied) <= CATCH_UP_FRAMES || frames >= self.threshold.saturating_mul(FALLBACK_FACTOR - 1)
    }

    /// Whether the thread was woken and has not finished its round yet.
    #[cfg(test)]
    pub(super) fn round_pending(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Whether the caller, after its commit, should checkpoint itself: the WAL is past
    /// [`FALLBACK_FACTOR`] times the threshold and has grown by a threshold since the caller
    /// last tried. Only called with the store's connection locked.
    pub(super) fn caller_should_checkpoint(&self) -> bool {
        let frames = self.frames.load(Ordering::Relaxed);
        let bound = FALLBACK_FACTOR.saturating_mul(self.threshold);
        if frames < bound {
            self.fallback_at.store(bound, Ordering::Relaxed);
            return false;
        }
        if frames < self.fallback_at.load(Ordering::Relaxed).max(bound) {
            return false;
        }
        self.fallback_at.store(frames.saturating_add(self.threshold), Ordering::Relaxed);
        true
    }
}

/// The WAL hook: SQLite calls it after each commit, on the committing thread, with the number
/// of frames in the WAL.
unsafe extern "C" fn wal_hook(arg: *mut c_void, _db: *mut ffi::sqlite3, _name: *const c_char, frames: c_int) -> c_int {
    // SAFETY: `arg` is the `Wal` that `Checkpointer::start` registered; the store unhooks the
    // connection (`Checkpointer::stop`) before it releases the `Wal`.
    let wal = unsafe { &*(arg as *const Wal) };
    wal.committed(frames);
    ffi::SQLITE_OK
}

/// The running thread, owned by the store.
#[derive(Debug)]
pub(super) struct Checkpointer {
    pub(super) wal: Arc<Wal>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with `own` (a connection of its own to the store's file), and hooks the
    /// store's connection `writer` (which must already have `wal_autocheckpoint=0`).
    pub(super) fn start(writer: &Arc<Mutex<Writer>>, own: Connection, threshold: i64) -> std::io::Result<Checkpointer> {
        let wal = Arc::new(Wal {
            threshold: threshold.max(1),
            frames: AtomicI64::new(0),
            requested: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            thread: OnceLock::new(),
            fallback_at: AtomicI64::new(0),
        });
        let thread = {
            let (wal, writer) = (wal.clone(), writer.clone());
            std::thread::Builder::new().name("codelookup-quota-checkpoint".into()).spawn(move || run(&wal, &own, &writer))?
        };
        let _ = wal.thread.set(thread.thread().clone());
        let conn = writer.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the handle is the live connection behind the lock; the `Wal` outlives the hook
        // (see `wal_hook`).
        unsafe {
            ffi::sqlite3_wal_hook(conn.handle(), Some(wal_hook), Arc::as_ptr(&wal) as *mut c_void);
        }
        Ok(Checkpointer { wal, thread: Some(thread) })
    }

    /// The state the callers read after their commits.
    pub(super) fn wal(&self) -> &Wal {
        &self.wal
    }

    /// Unhooks `writer` (the store's connection), stops the thread and waits for it (a round in
    /// progress finishes first).
    pub(super) fn stop(&mut self, writer: &Mutex<Writer>) {
        {
            // Released before the join: the thread may be waiting for it.
            let conn = writer.lock().unwrap_or_else(PoisonError::into_inner);
            // SAFETY: the live connection behind the lock; removing the hook needs no argument.
            unsafe {
                ffi::sqlite3_wal_hook(conn.handle(), None, std::ptr::null_mut());
            }
        }
        self.wal.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// The thread: sleep until woken, checkpoint, again; until stopped.
fn run(wal: &Wal, own: &Connection, writer: &Mutex<Writer>) {
    loop {
        while !wal.requested.load(Ordering::Acquire) && !wal.stop.load(Ordering::Acquire) {
            std::thread::park();
        }
        if wal.stop.load(Ordering::Acquire) {
            return;
        }
        // The bulk, while the writers go on: each round copies what was committed before it
        // started (the frames committed meanwhile stay behind), so the rounds shrink as long as
        // copying outpaces committing. They stop once little is left, or after a few rounds, or
        // before the WAL grows to where the callers would checkpoint themselves...
        for _ in 0..MAX_PASSIVE_ROUNDS {
            match checkpoint(own, "PASSIVE") {
                // Not busy: no other connection was checkpointing.
                Ok((0, _, copied)) if !wal.rounds_done(copied) => {}
                _ => break,
            }
        }
        // ...then the rest, with this process's writers held off, so that the checkpoint
        // completes and the next commit restarts the WAL from its beginning. The callers wait
        // for this step (two fsyncs and the copy of the last frames), not for the rounds.
        // The round is served before the writers go on, so that the first commit past the
        // threshold after it wakes the thread again.
        let writers = writer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = checkpoint(own, "FULL");
        wal.requested.store(false, Ordering::Release);
        drop(writers);
    }
}

/// One checkpoint: (busy, frames in the WAL, frames copied).
pub(super) fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
}
