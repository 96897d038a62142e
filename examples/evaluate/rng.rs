//! The benchmark's one source of randomness: a seeded ChaCha8 stream with the few draws it needs.
//!
//! ChaCha8 (rand_chacha) is value-stable across versions by design, and the draws below are
//! written here rather than taken from `rand`'s distributions (whose algorithms may change between
//! releases), so one seed gives the same benchmark on every machine and every future build.
//! Work that runs in parallel takes a generator derived from the seed and the item's name, so its
//! numbers do not depend on the order in which threads pick items up.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

/// A seeded random number generator.
pub struct Rng(ChaCha8Rng);

/// One round of SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): mixes a seed and a stream number into an independent seed.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64-bit (Fowler, Noll and Vo; IETF draft-eastlake-fnv): a stable hash of bytes, for
/// deriving seeds from names and for cache keys (std's `DefaultHasher` may change between Rust
/// releases).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    /// FNV-1a 64-bit offset basis and prime, from the FNV specification.
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(splitmix64(seed)))
    }

    /// An independent generator for the item `name` under `seed`.
    pub fn derive(seed: u64, name: &str) -> Rng {
        Rng::new(splitmix64(seed ^ fnv1a64(name.as_bytes())))
    }

    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in 0..n (0 when n is 0), by Lemire's multiply-shift (bias below 2^-64 · n).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in lo..=hi.
    pub fn range_inclusive(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal, by the Box–Muller transform.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // in (0, 1], so the logarithm is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// One item of `items`, uniformly; `None` when it is empty.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len()))
        }
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_same_seed_same_stream_and_derived_streams_differ() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(
            Rng::derive(7, "clip-1").next_u64(),
            Rng::derive(7, "clip-2").next_u64()
        );
    }

    #[test]
    fn rng_draws_stay_in_their_ranges() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let u = rng.uniform(2.0, 3.0);
            assert!((2.0..3.0).contains(&u));
            assert!(rng.below(5) < 5);
            assert!((3..=4).contains(&rng.range_inclusive(3, 4)));
        }
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn fnv1a64_matches_the_published_test_vector() {
        // From the FNV test suite: FNV-1a 64 of "a".
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    }
}
