//! FNV-1a, 64 bits: the theme's cache-busting versions (here and in
//! `build.rs`, which includes this file). A cache key, not a defence: the
//! files hashed are the theme's own.

pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

pub fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash = (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
