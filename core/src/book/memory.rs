//! How a book sits in memory: gives memory back to the operating system once a book is loaded,
//! asks for huge pages for its large arrays, and prefetches what a lookup will read.
//!
//! Loading decompresses the
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

/// Asks the kernel to back the 2 MiB-aligned part of a large, long-lived buffer with huge
/// pages, now (Linux 6.1+ `MADV_COLLAPSE`) and from then on (`MADV_HUGEPAGE`).
///
/// A cold lookup reads a handful of places scattered over tens of MiB; with 4 KiB pages each
/// is also a TLB miss, and under virtualisation a TLB miss walks two page tables. One 2 MiB
/// page covers 512 small ones. Only whole huge pages inside the buffer are advised, so no
/// other allocation is touched and resident memory does not grow. Where the kernel has no
/// transparent huge pages, or refuses, nothing happens.
pub(crate) fn prefer_huge_pages<T>(buffer: &[T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let from = buffer.as_ptr() as usize;
        let start = from.div_ceil(HUGE) * HUGE;
        let end = (from + std::mem::size_of_val(buffer)) / HUGE * HUGE;
        if end <= start {
            return;
        }
        let (ptr, len) = (start as *mut libc::c_void, end - start);
        // SAFETY: the range lies inside `buffer`, memory this process owns and keeps mapped;
        // both advices change how it is paged, never what it holds. Failures are ignored.
        unsafe {
            libc::madvise(ptr, len, libc::MADV_HUGEPAGE);
            #[cfg(target_env = "gnu")]
            libc::madvise(ptr, len, libc::MADV_COLLAPSE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

/// Starts loading the cache line of `value` while the caller goes on with other work: a hint
/// for a read that comes later and would otherwise wait for memory (a few hundred nanoseconds
/// on a cold book) after the reads before it. Does nothing where there is no such hint.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint to the cache: it never faults and changes nothing the
    // program can observe; `value` is a valid reference besides.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_and_prefetch_leave_what_memory_holds_alone() {
        // Large enough to hold whole huge pages wherever the allocator puts it.
        let big: Vec<u64> = (0..(6 << 20) / 8).map(|i| i * 7 + 3).collect();
        prefer_huge_pages(&big);
        prefer_huge_pages::<u64>(&[]);
        prefer_huge_pages(&big[..3]);
        prefetch(&big[12345]);
        assert!(big.iter().enumerate().all(|(i, &v)| v == i as u64 * 7 + 3));
    }
}
