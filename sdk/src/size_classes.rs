//! Small allocations served from free lists of fixed size classes, in front
//! of a general allocator.
//!
//! A storefront page makes tens of thousands of small allocations (strings,
//! map nodes, Liquid values) and frees nearly all of them before it returns.
//! A general allocator finds, splits and merges free chunks for each; a size
//! class pops a block from its list and pushes it back. Blocks of a class are
//! carved from slabs taken from the general allocator and never go back to
//! it: a warm instance serves the same pages again and reuses them.

// An allocator hands out raw memory: that is all the unsafe code here does.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};

/// Sizes up to this many bytes are served from a class.
pub const LARGEST_SMALL: usize = 1024;
/// Every class's blocks are aligned to this.
const GRAIN: usize = 16;
const CLASSES: usize = LARGEST_SMALL / GRAIN;
/// Classes take memory from the backing allocator this much at a time.
const SLAB: usize = 64 * 1024;

struct State {
    /// The first free block of each class; a free block holds the next.
    free: [Option<NonNull<u8>>; CLASSES],
    /// The unused rest of the current slab.
    bump: *mut u8,
    bump_end: *mut u8,
}

/// Size classes over `A`. Not for threads: the SDK uses it only where wasm
/// runs one thread.
pub struct SizeClasses<A> {
    backing: A,
    state: UnsafeCell<State>,
}

/// Which class serves `layout`, if any.
fn class_of(layout: Layout) -> Option<usize> {
    (layout.size() <= LARGEST_SMALL && layout.align() <= GRAIN && layout.size() > 0)
        .then(|| layout.size().div_ceil(GRAIN) - 1)
}

fn block_size(class: usize) -> usize {
    (class + 1) * GRAIN
}

impl<A: GlobalAlloc> SizeClasses<A> {
    pub const fn new(backing: A) -> Self {
        SizeClasses {
            backing,
            state: UnsafeCell::new(State { free: [None; CLASSES], bump: ptr::null_mut(), bump_end: ptr::null_mut() }),
        }
    }

    /// A block of `class`: the first free one, else carved from the slab.
    ///
    /// # Safety
    /// No other call into this allocator may be running.
    unsafe fn take(&self, class: usize) -> *mut u8 {
        // SAFETY: one thread, and no caller holds a reference into the state.
        let state = unsafe { &mut *self.state.get() };
        if let Some(block) = state.free[class] {
            // SAFETY: a free block's first word holds the next free block.
            state.free[class] = unsafe { block.as_ptr().cast::<Option<NonNull<u8>>>().read() };
            return block.as_ptr();
        }
        let size = block_size(class);
        if (state.bump_end as usize) - (state.bump as usize) < size {
            // The slab's rest is too small for this class: a few bytes lost once per slab.
            // SAFETY: the layout is valid and non-zero.
            let slab = unsafe { self.backing.alloc(Layout::from_size_align_unchecked(SLAB, GRAIN)) };
            if slab.is_null() {
                return slab;
            }
            state.bump = slab;
            state.bump_end = slab.wrapping_add(SLAB);
        }
        let block = state.bump;
        state.bump = block.wrapping_add(size);
        block
    }

    /// # Safety
    /// `block` came from `take(class)` and is not used after this.
    unsafe fn give_back(&self, block: *mut u8, class: usize) {
        // SAFETY: one thread, and no caller holds a reference into the state.
        let state = unsafe { &mut *self.state.get() };
        // SAFETY: every block is at least one word and aligned to GRAIN.
        unsafe { block.cast::<Option<NonNull<u8>>>().write(state.free[class]) };
        state.free[class] = NonNull::new(block);
    }
}

// SAFETY: blocks are aligned to GRAIN (slabs are, and block sizes are
// multiples of it) and at least as large as the layouts their class serves;
// a block is on a free list only after `dealloc`, which the caller promises
// ends its use; larger or more aligned layouts go to the backing allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SizeClasses<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            // SAFETY: calls into this allocator do not overlap (one thread).
            Some(class) => unsafe { self.take(class) },
            // SAFETY: forwarded with the caller's promises.
            None => unsafe { self.backing.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            // SAFETY: `ptr` was allocated with this layout, so by this class.
            Some(class) => unsafe { self.give_back(ptr, class) },
            // SAFETY: forwarded with the caller's promises.
            None => unsafe { self.backing.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller promises `new_size` makes a valid layout with this alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new_layout)) {
            (Some(old), Some(new)) if old == new => ptr,
            // SAFETY: forwarded with the caller's promises.
            (None, None) => unsafe { self.backing.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: as `alloc` and `dealloc`; the copy stays inside both blocks.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    moved
                }
            }
        }
    }
}

// SAFETY: wasm32 without the atomics feature runs one thread, so no two
// calls into the allocator overlap.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<A: GlobalAlloc> Sync for SizeClasses<A> {}

#[cfg(test)]
mod tests {
    use std::alloc::System;
    use std::collections::HashSet;

    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_cover_every_small_size_and_nothing_else() {
        assert_eq!(class_of(layout(1, 1)), Some(0));
        assert_eq!(class_of(layout(16, 8)), Some(0));
        assert_eq!(class_of(layout(17, 8)), Some(1));
        assert_eq!(class_of(layout(LARGEST_SMALL, 16)), Some(CLASSES - 1));
        assert_eq!(class_of(layout(LARGEST_SMALL + 1, 1)), None);
        assert_eq!(class_of(layout(8, 32)), None, "more alignment than a block has");
        for size in 1..=LARGEST_SMALL {
            assert!(block_size(class_of(layout(size, 1)).unwrap()) >= size);
        }
    }

    /// Blocks live at once never overlap, keep what was written to them
    /// through reallocation across classes and to the backing allocator,
    /// and freed blocks are handed out again.
    #[test]
    fn blocks_are_disjoint_keep_their_bytes_and_are_reused() {
        let heap = SizeClasses::new(System);
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let mut seed = 0x2545_f491_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        for step in 0..20_000 {
            let roll = next();
            if roll % 3 == 0 && !live.is_empty() {
                let (p, l, fill) = live.swap_remove(next() % live.len());
                // SAFETY: allocated above with this layout and filled with `fill`.
                unsafe {
                    assert!((0..l.size()).all(|i| *p.add(i) == fill), "a block changed while live");
                    heap.dealloc(p, l);
                }
            } else if roll % 3 == 1 && !live.is_empty() {
                let i = next() % live.len();
                let (p, l, fill) = live[i];
                let new_size = 1 + next() % (2 * LARGEST_SMALL);
                // SAFETY: allocated above with this layout; the new size is non-zero.
                let q = unsafe { heap.realloc(p, l, new_size) };
                assert!(!q.is_null());
                let kept = l.size().min(new_size);
                // SAFETY: `q` holds at least `new_size` bytes.
                unsafe {
                    assert!((0..kept).all(|k| *q.add(k) == fill), "realloc lost bytes");
                    ptr::write_bytes(q, fill, new_size);
                }
                live[i] = (q, layout(new_size, l.align()), fill);
            } else {
                let l = layout(1 + next() % (2 * LARGEST_SMALL), [1, 2, 4, 8, 16][next() % 5]);
                // SAFETY: the layout is non-zero.
                let p = unsafe { heap.alloc(l) };
                assert!(!p.is_null());
                assert_eq!(p as usize % l.align(), 0);
                let fill = step as u8;
                // SAFETY: `p` holds `l.size()` bytes.
                unsafe { ptr::write_bytes(p, fill, l.size()) };
                live.push((p, l, fill));
            }
            if step % 1000 == 0 {
                let mut bytes = HashSet::new();
                for (p, l, _) in &live {
                    for k in 0..l.size() {
                        assert!(bytes.insert(*p as usize + k), "two live blocks overlap");
                    }
                }
            }
        }
        let small = layout(24, 8);
        // SAFETY: the layout is non-zero; the block is freed before it is asked for again.
        unsafe {
            let first = heap.alloc(small);
            heap.dealloc(first, small);
            assert_eq!(heap.alloc(small), first, "a freed block is handed out again");
        }
    }
}
