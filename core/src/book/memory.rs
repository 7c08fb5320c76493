//! Gives memory back to the operating system once a book is loaded. Loading decompresses the
//! embedded image and reads a SQLite copy of it, both freed afterwards; on Linux with glibc the
//! freed heap stays mapped unless trimmed, and the compressed image's pages stay resident
//! unless released. Elsewhere these calls do nothing.

/// Returns freed heap pages to the OS (glibc `malloc_trim`).
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drops the resident pages of a read-only static image (the embedded compressed book) that
/// is not needed again; the kernel reloads them from the executable if it ever is.
pub(crate) fn release_static(bytes: &'static [u8]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let start = (bytes.as_ptr() as usize).div_ceil(page) * page;
        let end = (bytes.as_ptr() as usize + bytes.len()) / page * page;
        if end > start {
            // SAFETY: the range lies inside a read-only mapping of the executable; MADV_DONTNEED
            // on a file-backed private mapping that was never written only drops cached pages.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}
