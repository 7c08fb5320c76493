//! The SQLite VFS of the quota files: the platform's default VFS, except that a transaction's
//! WAL frames reach the WAL file in one write instead of two per frame.
//!
//! SQLite appends a frame to the WAL as two writes, its 24-byte header and then the page right
//! after it (`walWriteOneFrame`); on Linux each is one `pwrite` system call, and a charged view
//! appends 3 to 6 frames. This VFS collects the frames of a WAL file as SQLite appends them (a
//! header, its page, the next header at the end of that page, ...) and writes the run in one
//! call when the page of a *commit frame* arrives: the frame whose header says how large the
//! database is after the commit (bytes 4..8 nonzero), which SQLite writes last (`walFrames`).
//! Before any other operation on the file (a write that does not extend the run, a read, a
//! sync, a size, a truncation, a lock, a file control, a close) it writes the run first, so the
//! file sees the same bytes at the same offsets in the same order as without this VFS, only in
//! fewer calls. Runs longer than [`MAX_RUN`] are written when a frame completes. The database
//! file, the shared memory and the locks are the default VFS's, so processes using the plain
//! default VFS share the files safely.
//!
//! Why this is safe:
//! - Frames are published to other connections (the WAL index in shared memory,
//!   `walIndexWriteHdr`) only after SQLite's writes of a commit returned, and ours return after
//!   the run, commit frame included, is in the file.
//! - The store's connections run with `PRAGMA cache_spill = OFF` (see `sqlite.rs`), so SQLite
//!   writes frames only to commit (`sqlite3PagerCommitPhaseOne`): never a spilled page of a
//!   transaction that may roll back, and never rewrites a frame of the transaction in progress.
//!   So a run always ends with a commit frame, and none is left held once SQLite releases the
//!   WAL's write lock. (A held run that a rolled-back transaction left behind could later
//!   overwrite frames another connection committed; that is why spilling must stay off.)
//! - A crash or `SIGKILL` before or during the one write leaves no transaction SQLite would
//!   accept half-written: at recovery SQLite takes frames only up to the last commit frame whose
//!   checksum chain (which runs over every frame since the WAL header) is intact, as it does when
//!   a process dies between its own separate writes of the same bytes.
//! - A checksum rewrite (`walRewriteChecksums`, only after spilled frames were overwritten, which
//!   cannot happen with spilling off) writes a 24-byte header right after reading its frame; such
//!   a write is never held.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name the VFS is registered under.
pub(super) const NAME: &CStr = c"codelookup-quota";

/// The size of a WAL frame header (`WAL_FRAME_HDRSIZE`).
const FRAME_HEADER: usize = 24;

/// Registers the VFS (once per process) and returns its name, or `None` if there is no default
/// VFS to wrap or it cannot be registered (the store then uses the default VFS).
pub(super) fn name() -> Option<&'static str> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find(NULL)` returns the default VFS, which lives for the whole
        // process; the registered copy is leaked, so it does too.
        unsafe {
            let base = ffi::sqlite3_vfs_find(std::ptr::null());
            if base.is_null() || BASE.set(base as usize).is_err() {
                return false;
            }
            let mut vfs = *base;
            vfs.szOsFile = match c_int::try_from(HEADER_SIZE) {
                Ok(h) => (*base).szOsFile.saturating_add(h),
                Err(_) => return false,
            };
            vfs.zName = NAME.as_ptr();
            vfs.pNext = std::ptr::null_mut();
            vfs.xOpen = Some(open);
            ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 0) == ffi::SQLITE_OK
        }
    });
    ok.then(|| NAME.to_str().ok()).flatten()
}

/// The wrapped default VFS (a `*mut sqlite3_vfs`).
static BASE: OnceLock<usize> = OnceLock::new();

/// A WAL file as this VFS hands it to SQLite; the default VFS's file follows it in memory.
#[repr(C)]
struct WalFile {
    /// Must come first: SQLite reads the methods from here.
    base: ffi::sqlite3_file,
    /// The frames (headers and pages) held back, to be written at `run_at` in one call; empty
    /// when nothing is held.
    run: Vec<u8>,
    run_at: i64,
    /// The run ends with a frame header (`Some(commit frame?)`), whose page comes next.
    header_commit: Option<bool>,
    /// Offset of the last read, if the last call was a read: a 24-byte write there rewrites the
    /// header of a frame SQLite just read (`walRewriteChecksums`), and is not held.
    last_read_at: Option<i64>,
}

/// A run is written once it is this long and its last frame is complete, even before its commit
/// frame (a transaction of thousands of pages; SQLite holds the write lock meanwhile, as for its
/// own separate writes).
const MAX_RUN: usize = 1 << 20;

/// The most bytes handed to the default VFS's `xWrite` at once: the unix VFS writes at most
/// 128 KiB - 1 per call (`seekAndWriteFd` masks the size with `0x1ffff`, since SQLite's own
/// writes are at most one 64 KiB page), so a longer run is written in parts, in order.
const MAX_WRITE: usize = 1 << 16;

/// The space before the default VFS's file, rounded up to 8 bytes.
const HEADER_SIZE: usize = std::mem::size_of::<WalFile>().next_multiple_of(8);

/// The default VFS's file inside `f`.
///
/// # Safety
/// `f` is a file of this VFS (allocated with its `szOsFile`).
unsafe fn inner(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    unsafe { f.cast::<u8>().add(HEADER_SIZE).cast() }
}

/// The default VFS's methods of the file inside `f` (opened).
///
/// # Safety
/// As [`inner`], and the inner file is open.
unsafe fn methods<'a>(f: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    unsafe { &*(*inner(f)).pMethods }
}

/// `xOpen`: a WAL file gets [`WAL_METHODS`] around the default VFS's file; any other file is
/// the default VFS's own.
unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    let Some(&base) = BASE.get() else { return ffi::SQLITE_ERROR };
    let base = base as *mut ffi::sqlite3_vfs;
    // SAFETY: SQLite hands `f` with `szOsFile` bytes (ours: the header plus the default's).
    unsafe {
        let Some(base_open) = (*base).xOpen else { return ffi::SQLITE_ERROR };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            // Any other file is the default VFS's own, at the start of the space.
            return base_open(base, name, f, flags, out);
        }
        (*f).pMethods = std::ptr::null();
        let rc = base_open(base, name, inner(f), flags, out);
        let opened = !(*inner(f)).pMethods.is_null();
        if rc != ffi::SQLITE_OK || !opened {
            // SQLite wants no methods on a file that failed to open.
            if let (true, Some(close)) = (opened, methods(f).xClose) {
                close(inner(f));
            }
            return if rc == ffi::SQLITE_OK { ffi::SQLITE_CANTOPEN } else { rc };
        }
        std::ptr::write(
            f.cast::<WalFile>(),
            WalFile {
                base: ffi::sqlite3_file { pMethods: &WAL_METHODS },
                run: Vec::new(),
                run_at: 0,
                header_commit: None,
                last_read_at: None,
            },
        );
        rc
    }
}

/// Writes the held run, if any, with one call of the default VFS's `xWrite` (or one per
/// [`MAX_WRITE`] bytes, in order). The run is dropped whether or not the write succeeds (on an
/// error SQLite rolls the transaction back).
///
/// # Safety
/// `f` is an open WAL file of this VFS.
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let w = &mut *f.cast::<WalFile>();
        w.header_commit = None;
        w.last_read_at = None;
        if w.run.is_empty() {
            return ffi::SQLITE_OK;
        }
        let Some(write) = methods(f).xWrite else {
            w.run.clear();
            return ffi::SQLITE_IOERR_WRITE;
        };
        #[cfg(test)]
        fault::before_flush(inner(f), write, &w.run, w.run_at);
        let mut rc = ffi::SQLITE_OK;
        let mut at = w.run_at;
        for part in w.run.chunks(MAX_WRITE) {
            // At most `MAX_WRITE` bytes: fits a `c_int` and an `i64`.
            rc = write(inner(f), part.as_ptr().cast(), part.len() as c_int, at);
            if rc != ffi::SQLITE_OK {
                break;
            }
            at += part.len() as i64;
        }
        w.run.clear();
        rc
    }
}

/// `xWrite`: adds a frame header or page that SQLite appends to the held run, writing the run at
/// a commit frame's page; anything else writes the run first, then itself.
unsafe extern "C" fn write(f: *mut ffi::sqlite3_file, data: *const c_void, amt: c_int, at: i64) -> c_int {
    // SAFETY: SQLite calls the methods with the file it opened and `amt` readable bytes.
    unsafe {
        let len = usize::try_from(amt).unwrap_or(0);
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len);
        let w = &mut *f.cast::<WalFile>();
        let last_read_at = w.last_read_at.take();
        let run_end = w.run_at.checked_add(w.run.len() as i64);
        let extends = !w.run.is_empty() && run_end == Some(at);
        match w.header_commit {
            // The page of the frame whose header ends the run.
            Some(commit) if extends && len != FRAME_HEADER => {
                w.run.extend_from_slice(bytes);
                w.header_commit = None;
                if commit || w.run.len() >= MAX_RUN {
                    return flush(f);
                }
                return ffi::SQLITE_OK;
            }
            // The header of the next frame, after a complete one.
            None if extends && len == FRAME_HEADER => {
                w.run.extend_from_slice(bytes);
                w.header_commit = Some(is_commit_header(bytes));
                return ffi::SQLITE_OK;
            }
            _ => {}
        }
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let w = &mut *f.cast::<WalFile>();
        if len == FRAME_HEADER && last_read_at != Some(at) {
            // The header of a frame SQLite appends: its page comes next.
            w.run.extend_from_slice(bytes);
            w.run_at = at;
            w.header_commit = Some(is_commit_header(bytes));
            return ffi::SQLITE_OK;
        }
        match methods(f).xWrite {
            Some(real_write) => real_write(inner(f), data, amt, at),
            None => ffi::SQLITE_IOERR_WRITE,
        }
    }
}

/// Whether a WAL frame header is that of a commit frame: its "database size after commit" (bytes
/// 4..8, big-endian) is nonzero.
fn is_commit_header(header: &[u8]) -> bool {
    header.get(4..8).is_some_and(|size| size != [0; 4])
}

/// `xRead`: writes the held run, then reads (and notes where, see [`WalFile::last_read_at`]).
unsafe extern "C" fn read(f: *mut ffi::sqlite3_file, data: *mut c_void, amt: c_int, at: i64) -> c_int {
    // SAFETY: SQLite calls the methods with the file it opened and `amt` writable bytes.
    unsafe {
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        (*f.cast::<WalFile>()).last_read_at = Some(at);
        match methods(f).xRead {
            Some(m) => m(inner(f), data, amt, at),
            None => ffi::SQLITE_IOERR_READ,
        }
    }
}

/// `xClose`: writes the held run, closes the default VFS's file.
unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: the file was opened by `open` (a WAL file); it is not used after this.
    unsafe {
        let flushed = flush(f);
        let rc = match methods(f).xClose {
            Some(close) => close(inner(f)),
            None => ffi::SQLITE_OK,
        };
        std::ptr::drop_in_place(&mut (*f.cast::<WalFile>()).run);
        (*f).pMethods = std::ptr::null();
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            rc
        }
    }
}

/// A method that writes the held run first, then calls the default VFS's.
macro_rules! flushing {
    ($name:ident, $field:ident, ($($arg:ident: $ty:ty),*), $missing:expr) => {
        unsafe extern "C" fn $name(f: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls the methods with the file it opened.
            unsafe {
                let rc = flush(f);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                match methods(f).$field {
                    Some(m) => m(inner(f) $(, $arg)*),
                    None => $missing,
                }
            }
        }
    };
}

flushing!(truncate, xTruncate, (size: i64), ffi::SQLITE_IOERR_TRUNCATE);
flushing!(sync, xSync, (flags: c_int), ffi::SQLITE_IOERR_FSYNC);
flushing!(file_size, xFileSize, (size: *mut i64), ffi::SQLITE_IOERR_FSTAT);
flushing!(lock, xLock, (level: c_int), ffi::SQLITE_OK);
flushing!(unlock, xUnlock, (level: c_int), ffi::SQLITE_OK);
flushing!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int), ffi::SQLITE_OK);
flushing!(file_control, xFileControl, (op: c_int, arg: *mut c_void), ffi::SQLITE_NOTFOUND);

unsafe extern "C" fn sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls the methods with the file it opened.
    unsafe { methods(f).xSectorSize.map_or(4096, |m| m(inner(f))) }
}

unsafe extern "C" fn device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls the methods with the file it opened.
    unsafe { methods(f).xDeviceCharacteristics.map_or(0, |m| m(inner(f))) }
}

/// The methods of a WAL file (version 1: no shared memory or memory mapping, which SQLite only
/// uses on the database file).
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// Fault injection for the crash tests: the worker process arms a kill at its n-th run write.
#[cfg(test)]
pub(super) mod fault {
    use std::ffi::c_int;
    use std::sync::atomic::{AtomicU64, Ordering};

    use rusqlite::ffi;

    /// Run writes left before the kill (0: not armed).
    static COUNTDOWN: AtomicU64 = AtomicU64::new(0);
    /// How much of the run is written before the kill: 0 nothing, 1 half, 2 all but the last
    /// byte, 3 all of it.
    static MODE: AtomicU64 = AtomicU64::new(0);

    /// Kills the process with `SIGKILL` at its `n`-th run write from now, after writing the part
    /// of the run that `mode` says.
    pub(in super::super) fn kill_at_flush(n: u64, mode: u64) {
        MODE.store(mode, Ordering::SeqCst);
        COUNTDOWN.store(n, Ordering::SeqCst);
    }

    /// Called before each run write: kills the process when the countdown reaches it.
    pub(super) fn before_flush(
        file: *mut ffi::sqlite3_file,
        write: unsafe extern "C" fn(*mut ffi::sqlite3_file, *const std::ffi::c_void, c_int, i64) -> c_int,
        run: &[u8],
        at: i64,
    ) {
        let left = COUNTDOWN.load(Ordering::SeqCst);
        if left == 0 || COUNTDOWN.fetch_sub(1, Ordering::SeqCst) != 1 {
            return;
        }
        let part = match MODE.load(Ordering::SeqCst) {
            0 => 0,
            1 => run.len() / 2,
            2 => run.len() - 1,
            _ => run.len(),
        };
        let mut at = at;
        for chunk in run[..part].chunks(super::MAX_WRITE) {
            // SAFETY: the default VFS's open WAL file and the chunk's readable bytes.
            unsafe { write(file, chunk.as_ptr().cast(), chunk.len() as c_int, at) };
            at += chunk.len() as i64;
        }
        // SAFETY: ends this process at once, as a `kill -9` from outside would.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
}
