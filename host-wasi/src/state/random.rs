//! `Random`: the guest's WASI randomness, from the OS or a seed.

use std::time::{SystemTime, UNIX_EPOCH};

use super::SplitMix64;

/// The guest's randomness: a seeded generator (deterministic) or the OS.
pub(crate) enum Random {
    Os,
    Seeded(SplitMix64),
}

impl Random {
    pub(super) fn new(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => Random::Seeded(SplitMix64(s)),
            None => Random::Os,
        }
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        match self {
            Random::Os => {
                if getrandom::fill(buf).is_err() {
                    // No OS randomness: still fill, from a clock-seeded generator.
                    let seed = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos() as u64);
                    SplitMix64(seed).fill(buf);
                }
            }
            Random::Seeded(rng) => rng.fill(buf),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }
}
