//! A global allocator that counts the allocations made by the current
//! thread, shared by `tests/allocations.rs` and the benchmarks' report
//! (`benches/report.rs`), which include this file with `#[path]` and
//! install it with `#[global_allocator]`.
//!
//! Per thread, so that the test harness's other threads (and their
//! output capture) never count against the code measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator: forwards to [`System`], counting `alloc` and
/// `realloc` calls of the current thread.
pub struct CountingAllocator;

std::thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-local may be gone during thread teardown.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every method forwards to the system allocator unchanged; the
// count is a side effect that allocates nothing (a const thread-local).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// How many allocations the current thread has made so far.
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}
