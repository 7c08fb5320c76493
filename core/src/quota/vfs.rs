//! The SQLite VFS of the quota files: the platform's default VFS, except that each WAL frame
//! reaches the WAL file in one write instead of two.
//!
//! SQLite appends a frame to the WAL as two writes, its 24-byte header and then the page right
//! after it (`walWriteOneFrame`); on Linux each is one `pwrite` system call, and a charged view
//! appends 3 to 6 frames. This VFS holds a 24-byte write to a WAL file back and writes it
//! together with the write that follows it when that one starts where it ends (the page), in one
//! call; before any other operation on the file (another write, a read, a sync, a size, a
//! truncation, a file control, a close) it writes the held bytes first. Nothing else changes:
//! the database file, the shared memory and the locks are the default VFS's, so processes using
//! the plain default VFS share the files safely.
//!
//! Why this is safe: SQLite publishes new frames to other connections (the WAL index in shared
//! memory) only after it has written them, and between a frame's header and its page it does
//! nothing else with the file; a crash between the two writes loses the frame's header as it
//! would have lost the page, and an uncommitted frame at the end of a WAL is ignored at recovery.

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
    /// The held frame header and where it goes (`held` bytes, 0 when nothing is held).
    held: [u8; FRAME_HEADER],
    held_at: i64,
    held_len: usize,
    /// Scratch space for a header and its page.
    buf: Vec<u8>,
}

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
                held: [0; FRAME_HEADER],
                held_at: 0,
                held_len: 0,
                buf: Vec::new(),
            },
        );
        rc
    }
}

/// Writes the held bytes, if any.
///
/// # Safety
/// `f` is an open WAL file of this VFS.
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let w = &mut *f.cast::<WalFile>();
        if w.held_len == 0 {
            return ffi::SQLITE_OK;
        }
        let len = std::mem::take(&mut w.held_len);
        let Some(write) = methods(f).xWrite else { return ffi::SQLITE_IOERR_WRITE };
        write(inner(f), w.held.as_ptr().cast(), len as c_int, w.held_at)
    }
}

/// `xWrite`: holds a frame header back, or writes it with the page that follows it.
unsafe extern "C" fn write(f: *mut ffi::sqlite3_file, data: *const c_void, amt: c_int, at: i64) -> c_int {
    // SAFETY: SQLite calls the methods with the file it opened and `amt` readable bytes.
    unsafe {
        let Some(real_write) = methods(f).xWrite else { return ffi::SQLITE_IOERR_WRITE };
        let len = usize::try_from(amt).unwrap_or(0);
        let w = &mut *f.cast::<WalFile>();
        if w.held_len > 0 && w.held_at.checked_add(w.held_len as i64) == Some(at) {
            // The page after its header: one write.
            let held = std::mem::take(&mut w.held_len);
            w.buf.clear();
            w.buf.extend_from_slice(&w.held[..held]);
            w.buf.extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len));
            let Ok(total) = c_int::try_from(w.buf.len()) else { return ffi::SQLITE_IOERR_WRITE };
            return real_write(inner(f), w.buf.as_ptr().cast(), total, w.held_at);
        }
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if len == FRAME_HEADER {
            let w = &mut *f.cast::<WalFile>();
            w.held.copy_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len));
            w.held_at = at;
            w.held_len = len;
            return ffi::SQLITE_OK;
        }
        real_write(inner(f), data, amt, at)
    }
}

/// `xClose`: writes the held bytes, closes the default VFS's file.
unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: the file was opened by `open` (a WAL file); it is not used after this.
    unsafe {
        let flushed = flush(f);
        let rc = match methods(f).xClose {
            Some(close) => close(inner(f)),
            None => ffi::SQLITE_OK,
        };
        std::ptr::drop_in_place(&mut (*f.cast::<WalFile>()).buf);
        (*f).pMethods = std::ptr::null();
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            rc
        }
    }
}

/// A method that writes the held bytes first, then calls the default VFS's.
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

flushing!(read, xRead, (data: *mut c_void, amt: c_int, at: i64), ffi::SQLITE_IOERR_READ);
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
