//! The runtime's allocator: enforces the memory limit itself, so a failed allocation is
//! *known* to be the limit (QuickJS sometimes cannot even allocate the "out of memory"
//! error and throws `null` instead, after freeing what the hook held).

use std::sync::{Arc, atomic::Ordering};

use rquickjs::allocator::{Allocator, RustAllocator};

use crate::watchdog::PageSignals;

/// Counts live bytes and refuses allocations beyond `limit`, raising `memory_exhausted`;
/// while the page is cancelled but not yet interrupted it refuses every allocation, which
/// gets JavaScript out of long-running built-ins (see `watchdog`).
pub(crate) struct LimitedAllocator {
    inner: RustAllocator,
    used: usize,
    limit: usize,
    signals: Arc<PageSignals>,
}

impl LimitedAllocator {
    pub(crate) fn new(limit: usize, signals: Arc<PageSignals>) -> LimitedAllocator {
        LimitedAllocator { inner: RustAllocator, used: 0, limit, signals }
    }

    fn refuse(&self) -> *mut u8 {
        if !self.signals.cancelled.load(Ordering::Relaxed) {
            self.signals.memory_exhausted.store(true, Ordering::Relaxed);
        }
        std::ptr::null_mut()
    }

    fn fits(&self, extra: usize) -> bool {
        !self.signals.starving() && self.used.checked_add(extra).is_some_and(|total| total <= self.limit)
    }
}

// SAFETY: every call is forwarded to `RustAllocator`, which upholds the trait's contract;
// this wrapper only declines some allocations (returning null, which is allowed) and keeps a
// count using the sizes `RustAllocator` reports for its own allocations.
unsafe impl Allocator for LimitedAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.fits(size) {
            return self.refuse();
        }
        let pointer = self.inner.alloc(size);
        if !pointer.is_null() {
            // SAFETY: `pointer` was just allocated by `RustAllocator`.
            self.used += unsafe { RustAllocator::usable_size(pointer) };
        }
        pointer
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        if !count.checked_mul(size).is_some_and(|total| self.fits(total)) {
            return self.refuse();
        }
        let pointer = self.inner.calloc(count, size);
        if !pointer.is_null() {
            // SAFETY: as in `alloc`.
            self.used += unsafe { RustAllocator::usable_size(pointer) };
        }
        pointer
    }

    unsafe fn dealloc(&mut self, pointer: *mut u8) {
        // SAFETY: the caller passes a pointer from this allocator, i.e. from `RustAllocator`.
        unsafe {
            self.used -= RustAllocator::usable_size(pointer);
            self.inner.dealloc(pointer);
        }
    }

    unsafe fn realloc(&mut self, pointer: *mut u8, new_size: usize) -> *mut u8 {
        // libc semantics, which QuickJS relies on.
        if pointer.is_null() {
            return self.alloc(new_size);
        }
        if new_size == 0 {
            // SAFETY: as in `dealloc`.
            unsafe { self.dealloc(pointer) };
            return std::ptr::null_mut();
        }
        // SAFETY: as in `dealloc`.
        let old_size = unsafe { RustAllocator::usable_size(pointer) };
        if new_size > old_size && !self.fits(new_size - old_size) {
            return self.refuse();
        }
        // SAFETY: as in `dealloc`; on failure the old block stays valid and counted.
        let moved = unsafe { self.inner.realloc(pointer, new_size) };
        if !moved.is_null() {
            self.used -= old_size;
            // SAFETY: `moved` was just allocated by `RustAllocator`.
            self.used += unsafe { RustAllocator::usable_size(moved) };
        }
        moved
    }

    unsafe fn usable_size(pointer: *mut u8) -> usize {
        // SAFETY: forwarded with the caller's guarantee.
        unsafe { RustAllocator::usable_size(pointer) }
    }
}
