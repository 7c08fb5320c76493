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
pub(crate) fn prefetch<T: ?Sized>(value: &T) {
    prefetch_address((value as *const T).cast());
}

/// [`prefetch`] for every cache line `value` spans (a value that straddles two lines is read
/// from both).
#[inline(always)]
pub(crate) fn prefetch_whole<T: ?Sized>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let mut offset = 0;
    loop {
        prefetch_address(start.wrapping_add(offset));
        // Where the next cache line begins, counted from `start`.
        offset += CACHE_LINE - (start as usize + offset) % CACHE_LINE;
        if offset >= std::mem::size_of_val(value) {
            break;
        }
    }
}

/// Starts loading the reference counts of an `Arc`, which cloning it is about to write.
///
/// Cloning an `Arc` is a locked increment, and on x86 no later read may start before a
/// locked instruction is done: a record that clones several cold `Arc`s one after another
/// waits for memory once per `Arc`, in turn. Prefetching all their counts first lets those
/// waits overlap. The counts sit just before the value (std's `ArcInner`: two `usize`s, then
/// the value); were that layout ever to change, only the hint would be wasted.
#[inline(always)]
pub(crate) fn prefetch_arc<T: ?Sized>(arc: &std::sync::Arc<T>) {
    prefetch_address(std::sync::Arc::as_ptr(arc).cast::<u8>().wrapping_sub(2 * std::mem::size_of::<usize>()));
}

/// The size of a cache line on the machines the hints are for.
const CACHE_LINE: usize = 64;

#[inline(always)]
fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint to the cache: it never faults, whatever the address,
    // and changes nothing the program can observe.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// The size of a huge page on x86-64 and most aarch64 Linux systems.
const HUGE_PAGE: usize = 2 << 20;

/// A zeroed `[u64]` that starts on a huge-page boundary when it is at least a huge page long,
/// so that [`prefer_huge_pages`] backs all of it with huge pages. (A `Vec` starts wherever the
/// allocator puts it, and a 2 MiB array there rarely holds a whole aligned huge page.)
pub(crate) struct AlignedU64s {
    ptr: std::ptr::NonNull<u64>,
    len: usize,
    layout: std::alloc::Layout,
}

// SAFETY: it owns its memory like a `Box<[u64]>`, which is `Send` and `Sync`.
unsafe impl Send for AlignedU64s {}
// SAFETY: as above; shared access is read-only.
unsafe impl Sync for AlignedU64s {}

impl AlignedU64s {
    /// `len` zeros; `None` when that many do not fit in memory's address range.
    pub fn zeroed(len: usize) -> Option<AlignedU64s> {
        let layout = std::alloc::Layout::array::<u64>(len).ok()?;
        let layout = layout.align_to(if layout.size() >= HUGE_PAGE { HUGE_PAGE } else { layout.align() }).ok()?;
        if len == 0 {
            return Some(AlignedU64s { ptr: std::ptr::NonNull::dangling(), len, layout });
        }
        // SAFETY: the layout's size is not zero.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = std::ptr::NonNull::new(ptr.cast()).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        Some(AlignedU64s { ptr, len, layout })
    }
}

impl Default for AlignedU64s {
    fn default() -> AlignedU64s {
        AlignedU64s { ptr: std::ptr::NonNull::dangling(), len: 0, layout: std::alloc::Layout::new::<[u64; 0]>() }
    }
}

impl std::ops::Deref for AlignedU64s {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        // SAFETY: `ptr` holds `len` initialised `u64`s (or is dangling and `len` is 0).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for AlignedU64s {
    fn deref_mut(&mut self) -> &mut [u64] {
        // SAFETY: as in `deref`, and `&mut self` is the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedU64s {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated in `zeroed` with this layout.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), self.layout) }
        }
    }
}

impl std::fmt::Debug for AlignedU64s {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedU64s").field("len", &self.len).finish()
    }
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

    #[test]
    fn aligned_arrays_start_on_a_huge_page_when_they_are_that_large() {
        for len in [0, 1, 1000, HUGE_PAGE / 8, HUGE_PAGE / 8 * 3 + 5] {
            let mut a = AlignedU64s::zeroed(len).unwrap();
            assert_eq!(a.len(), len);
            assert!(a.iter().all(|&v| v == 0));
            if len * 8 >= HUGE_PAGE {
                assert_eq!(a.as_ptr() as usize % HUGE_PAGE, 0);
            }
            a.iter_mut().enumerate().for_each(|(i, v)| *v = i as u64);
            prefer_huge_pages(&a);
            assert!(a.iter().enumerate().all(|(i, &v)| v == i as u64));
        }
        assert!(AlignedU64s::zeroed(usize::MAX / 4).is_none());
        assert!(AlignedU64s::default().is_empty());
    }
}
