//! The plugin's heap in wasm: talc, first over the free part of the memory
//! the plugin starts with, then over memory grown as needed.
//!
//! talc's own wasm source grows memory for its first allocation and ignores
//! the memory above the plugin's data and stack. The plugin build gives a
//! plugin several MiB to start with (`omnistore-build`), so using that first
//! means a call seldom grows memory at all, and a growth is what makes the
//! host change page protections when it runs plugins behind guard pages.

// An allocator hands out raw memory: that is all the unsafe code here does.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::arch::wasm32::{memory_grow, memory_size};
use core::ptr::NonNull;

use talc::base::binning::Binning;
use talc::base::{CHUNK_UNIT, Talc};

const PAGE: usize = 64 * 1024;
/// Memory grows at least this much at a time: fewer, larger growths.
const MIN_GROWTH_PAGES: usize = 16;

unsafe extern "C" {
    /// Where the linker put the end of the data and the stack.
    static __heap_base: u8;
}

/// talc's memory source for plugins.
#[derive(Debug)]
pub struct InitialThenGrown {
    /// The top of the heap, once there is one.
    end: Option<NonNull<u8>>,
    /// Whether the initial memory has been offered to talc.
    claimed_initial: bool,
}

impl InitialThenGrown {
    pub const fn new() -> Self {
        InitialThenGrown { end: None, claimed_initial: false }
    }
}

// SAFETY: `acquire` hands talc only memory nothing else uses: the initial
// memory above `__heap_base` (the global allocator is its only user) and
// pages `memory.grow` has just added; it never allocates.
unsafe impl talc::source::Source for InitialThenGrown {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        if !talc.source.claimed_initial {
            talc.source.claimed_initial = true;
            let base = (&raw const __heap_base).cast_mut();
            let end = memory_size::<0>() * PAGE;
            if (base as usize) < end {
                // SAFETY: see the impl's comment.
                talc.source.end = unsafe { talc.claim(base, end - base as usize) };
                if talc.source.end.is_some() {
                    return Ok(());
                }
            }
        }
        let needed = (layout.size() + layout.align() + 4 * CHUNK_UNIT).div_ceil(PAGE);
        let (grown_from, pages) = match memory_grow::<0>(needed.max(MIN_GROWTH_PAGES)) {
            usize::MAX if needed < MIN_GROWTH_PAGES => match memory_grow::<0>(needed) {
                usize::MAX => return Err(()),
                from => (from, needed),
            },
            usize::MAX => return Err(()),
            from => (from, needed.max(MIN_GROWTH_PAGES)),
        };
        let base = (grown_from * PAGE) as *mut u8;
        let end = base.wrapping_add(pages * PAGE);
        if let Some(old_end) = talc.source.end.take() {
            if old_end.as_ptr() == base {
                // SAFETY: the pages just grown continue the heap.
                talc.source.end = Some(unsafe { talc.extend(old_end, end) });
                return Ok(());
            }
        }
        // SAFETY: see the impl's comment.
        talc.source.end = unsafe { talc.claim(base, pages * PAGE) };
        Ok(())
    }
}

/// The SDK's global allocator in wasm.
pub type PluginHeap = talc::cell::TalcSyncCell<InitialThenGrown, talc::wasm::WasmBinning>;

pub const fn new() -> PluginHeap {
    talc::cell::TalcSyncCell::new_wasm(InitialThenGrown::new())
}
