//! Randomness that does not depend on the order it is asked for.
//!
//! The customers and their events come from ChaCha8 streams, one per person
//! and purpose, seeded from the run seed. Mess decisions come from
//! [`Coins`]: a hash of (seed, kind of mess, person, event, slot), so that
//! turning one kind of mess up or down changes nothing else, and a higher
//! rate keeps every decision a lower rate made (a coin below 0.05 is also
//! below 0.1).

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64's finalizer: a good 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a few numbers into one.
pub(crate) fn key(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x6A09_E667_F3BC_C908, |acc, p| mix64(acc ^ mix64(*p)))
}

/// A stable 64-bit hash of a string (FNV-1a, then mixed): for uniqueness
/// sets, never for output.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    mix64(h)
}

/// A ChaCha8 stream for one purpose of one person.
pub(crate) fn stream(seed: u64, purpose: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(key(&[seed, purpose, index]))
}

/// A small counter-based generator (SplitMix64), cheap to create for every
/// decision point.
#[derive(Debug, Clone)]
pub(crate) struct Dice(u64);

impl RngCore for Dice {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Kinds of decision, so that each draws from its own hash space.
pub(crate) mod kind {
    pub const PHONE_FORMAT: u64 = 1;
    pub const EMAIL_FORMAT: u64 = 2;
    pub const NAME_FORMAT: u64 = 3;
    pub const ID_FORMAT: u64 = 4;
    pub const BIRTHDAY_FORMAT: u64 = 5;
    pub const NAME_TYPO: u64 = 6;
    pub const EMAIL_TYPO: u64 = 7;
    pub const MISSING: u64 = 8;
    pub const HOUSEHOLD: u64 = 9;
    pub const PHONE_CHANGE: u64 = 10;
    pub const EMAIL_CHANGE: u64 = 11;
    pub const NAMESAKE: u64 = 12;
    pub const JUNK: u64 = 13;
    pub const DUPLICATE: u64 = 14;
    pub const LATE: u64 = 15;
    pub const ACCOUNT_TYPO: u64 = 16;
    pub const SOURCE_ID: u64 = 17;
}

/// Streams of [`stream`].
pub(crate) mod purpose {
    pub const WORLD: u64 = 100;
    pub const PERSON: u64 = 101;
    pub const EVENTS: u64 = 102;
}

/// Order-independent coins for mess decisions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coins {
    seed: u64,
}

impl Coins {
    pub(crate) fn new(seed: u64) -> Self {
        Coins { seed }
    }

    /// A uniform number in [0, 1) for this decision.
    pub(crate) fn unit(&self, kind: u64, a: u64, b: u64) -> f64 {
        (key(&[self.seed, kind, a, b]) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Whether this decision comes out true at `rate`.
    pub(crate) fn hit(&self, rate: f64, kind: u64, a: u64, b: u64) -> bool {
        rate > 0.0 && self.unit(kind, a, b) < rate
    }

    /// A generator for the details of this decision (which variant, where
    /// the typo goes), independent of whether it was taken.
    pub(crate) fn dice(&self, kind: u64, a: u64, b: u64) -> Dice {
        Dice(key(&[self.seed, kind ^ 0x5A5A_0000, a, b]))
    }
}

/// A standard normal draw (Box-Muller).
pub(crate) fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Index drawn with probability proportional to `weights` (all zero: 0).
pub(crate) fn weighted<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return 0;
    }
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// Index in `0..n` drawn with Zipf-like weights `1 / (i + 2)^s`: the first
/// entries of a list ordered by frequency come up most.
pub(crate) fn zipf<R: Rng + ?Sized>(rng: &mut R, n: usize, s: f64) -> usize {
    if n <= 1 {
        return 0;
    }
    // Inverse CDF of the continuous approximation, then clamp.
    let u: f64 = rng.random();
    let h = |x: f64| {
        if (s - 1.0).abs() < 1e-9 {
            (x + 2.0).ln()
        } else {
            (x + 2.0).powf(1.0 - s) / (1.0 - s)
        }
    };
    let (lo, hi) = (h(0.0), h(n as f64));
    let y = lo + u * (hi - lo);
    let x = if (s - 1.0).abs() < 1e-9 {
        y.exp() - 2.0
    } else {
        (y * (1.0 - s)).powf(1.0 / (1.0 - s)) - 2.0
    };
    (x.max(0.0) as usize).min(n - 1)
}

/// One element of a non-empty slice, with Zipf weights (see [`zipf`]).
pub(crate) fn pick_zipf<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [T], s: f64) -> &'a T {
    &items[zipf(rng, items.len(), s)]
}

/// One element of a non-empty slice, uniformly.
pub(crate) fn pick<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A string of `n` characters drawn from `alphabet` (ASCII).
pub(crate) fn random_chars<R: Rng + ?Sized>(rng: &mut R, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub(crate) const DIGITS: &[u8] = b"0123456789";
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
pub(crate) const BASE64URL: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Digits with a non-zero first digit.
pub(crate) fn digits_nz<R: Rng + ?Sized>(rng: &mut R, n: usize) -> String {
    let mut s = String::with_capacity(n);
    s.push(char::from(b'1' + rng.random_range(0..9u8)));
    s.push_str(&random_chars(rng, DIGITS, n.saturating_sub(1)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_are_coupled_across_rates() {
        let c = Coins::new(9);
        for i in 0..1000 {
            if c.hit(0.05, kind::LATE, i, 0) {
                assert!(c.hit(0.1, kind::LATE, i, 0));
            }
        }
        let hits = (0..100_000)
            .filter(|i| c.hit(0.1, kind::LATE, *i, 0))
            .count();
        assert!((9_000..11_000).contains(&hits), "{hits}");
    }

    #[test]
    fn zipf_prefers_the_head() {
        let mut rng = stream(1, 2, 3);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[zipf(&mut rng, 10, 1.0)] += 1;
        }
        assert!(counts[0] > counts[9] * 2, "{counts:?}");
        assert!(counts.iter().all(|c| *c > 0), "{counts:?}");
    }
}
