//! Counter-based random draws: every draw is a pure function of
//! (run seed, agent id, tick, purpose, index), never of which thread asked or in what order.
//!
//! This is what makes a run byte-identical for any thread count (MODEL.md §8), and what
//! gives a scenario and its counterfactual common random numbers.

use rand::rand_core::{Infallible, TryRng};

/// What a draw is for. Each purpose is its own stream, so adding a draw to one mechanism
/// never shifts the numbers another mechanism sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Building the world: household cash, known retailers, initial supplier lists.
    Build = 1,
    /// A retailer's Calvo draw: does it reprice this tick?
    Reprice = 2,
    /// A household's logit choice of retailer within a sector.
    RetailerChoice = 3,
    /// A buyer's supplier search: does it search, and whom does it sample?
    SupplierSearch = 4,
    /// An employee's draw against its employer's layoff fraction.
    Layoff = 5,
    /// An unemployed household's job search.
    JobSearch = 6,
    /// A sweep's design: the values the random and Latin-hypercube samplers draw.
    SweepDesign = 7,
    /// A sweep's run seeds under `seeds = "independent"`.
    SweepSeed = 8,
}

/// SplitMix64's finaliser (Stafford variant 13): a bijective, well-mixed 64-bit hash.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The key of one stream of draws.
#[derive(Clone, Copy, Debug)]
pub struct DrawKey {
    state: u64,
}

/// The draws of one purpose at one tick, for all agents: hashed once, so that an agent's
/// key costs a single mix ([`Stream::key`]).
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    base: u64,
}

impl Stream {
    pub fn new(seed: u64, tick: u64, purpose: Purpose) -> Stream {
        let mut h = mix64(seed ^ GOLDEN);
        h = mix64(h ^ tick.wrapping_add(0x632b_e59b_d9b4_e019));
        h = mix64(h ^ (purpose as u64).wrapping_mul(0xd6e8_feb8_6659_fd93));
        Stream { base: h }
    }

    /// The key of `agent`'s draws in this stream.
    #[inline]
    pub fn key(self, agent: u64) -> DrawKey {
        DrawKey { state: mix64(self.base ^ agent.wrapping_mul(GOLDEN)) }
    }
}

/// A draw index, mixed once: a loop that takes the same indices from many agents' keys
/// mixes them before the loop and pays one hash per draw instead of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawIndex(u64);

impl DrawIndex {
    #[inline]
    pub fn new(index: u64) -> DrawIndex {
        DrawIndex(mix64(index.wrapping_add(1).wrapping_mul(GOLDEN)))
    }
}

impl DrawKey {
    /// The stream for (seed, agent, tick, purpose); the same as
    /// `Stream::new(seed, tick, purpose).key(agent)`.
    #[inline]
    pub fn new(seed: u64, agent: u64, tick: u64, purpose: Purpose) -> DrawKey {
        Stream::new(seed, tick, purpose).key(agent)
    }

    /// The `index`-th raw 64-bit draw of this stream.
    #[inline]
    pub fn u64(self, index: u64) -> u64 {
        self.u64_at(DrawIndex::new(index))
    }

    /// The raw 64-bit draw at a pre-mixed index (the same number as `u64(index)`).
    ///
    /// Key and index are both already mixed, so one wyrand output step (a 64×64→128-bit
    /// multiply folded by xor; Wang Yi's generator, which its author reports passes BigCrush
    /// and PractRand) finishes the draw: about half the instructions of a second SplitMix
    /// finaliser, in the loops that take one draw per household and sector.
    #[inline]
    pub fn u64_at(self, index: DrawIndex) -> u64 {
        let s = self.state.wrapping_add(index.0);
        let t = (s as u128).wrapping_mul((s ^ 0xe703_7ed1_a0b4_28db) as u128);
        (t >> 64) as u64 ^ t as u64
    }

    /// The `index`-th uniform draw in [0, 1), with 53 bits of precision.
    #[inline]
    pub fn uniform(self, index: u64) -> f64 {
        self.uniform_at(DrawIndex::new(index))
    }

    /// The uniform draw at a pre-mixed index (the same number as `uniform(index)`).
    #[inline]
    pub fn uniform_at(self, index: DrawIndex) -> f64 {
        // The 53 bits fit an i64, whose conversion is one instruction; u64's is several.
        ((self.u64_at(index) >> 11) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// The `index`-th draw of an integer in `0..n` (n > 0), by Lemire's multiply-shift.
    #[inline]
    pub fn below(self, index: u64, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.u64(index) as u128 * n as u128) >> 64) as u64
    }

    /// A sequential generator over this stream, for `rand_distr` distributions.
    pub fn rng(self) -> CounterRng {
        CounterRng { key: self, index: 0 }
    }
}

/// A `rand` generator that walks one [`DrawKey`] stream.
#[derive(Clone, Debug)]
pub struct CounterRng {
    key: DrawKey,
    index: u64,
}

impl TryRng for CounterRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let v = self.key.u64(self.index);
        self.index += 1;
        Ok(v)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// Picks an index with probability proportional to `weights`, using the uniform `u` in [0,1).
/// Returns `None` when all weights are zero (or not finite).
#[inline]
pub fn pick_weighted(weights: &[f64], u: f64) -> Option<usize> {
    let usable = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
    let total: f64 = weights.iter().map(|&w| usable(w)).sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    // The pick is the first index whose running sum exceeds `target`: the number of running
    // sums at or below it (they never decrease). Counted without branches, since which way
    // a random draw falls cannot be predicted. Rounding can leave `target` at the total;
    // then the last usable index is the pick.
    let target = u * total;
    let mut acc = 0.0;
    let mut below = 0;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        let w = usable(w);
        acc += w;
        below += (acc <= target) as usize;
        last = if w > 0.0 { i } else { last };
    }
    Some(below.min(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, LogNormal};

    #[test]
    fn a_stream_gives_the_keys_of_its_agents() {
        let stream = Stream::new(7, 3, Purpose::Layoff);
        for agent in [0, 1, 42, u64::MAX] {
            assert_eq!(stream.key(agent).u64(5), DrawKey::new(7, agent, 3, Purpose::Layoff).u64(5));
        }
        assert_ne!(stream.key(1).u64(0), stream.key(2).u64(0));
    }

    #[test]
    fn draws_are_pure_functions_of_their_key() {
        let a = DrawKey::new(7, 42, 3, Purpose::Reprice);
        let b = DrawKey::new(7, 42, 3, Purpose::Reprice);
        assert_eq!(a.u64(0), b.u64(0));
        assert_ne!(a.u64(0), a.u64(1));
        assert_ne!(a.u64(0), DrawKey::new(8, 42, 3, Purpose::Reprice).u64(0));
        assert_ne!(a.u64(0), DrawKey::new(7, 43, 3, Purpose::Reprice).u64(0));
        assert_ne!(a.u64(0), DrawKey::new(7, 42, 4, Purpose::Reprice).u64(0));
        assert_ne!(a.u64(0), DrawKey::new(7, 42, 3, Purpose::Layoff).u64(0));
    }

    #[test]
    fn uniforms_look_uniform() {
        let n = 200_000;
        let mut sum = 0.0;
        let mut buckets = [0u32; 10];
        for i in 0..n {
            let u = DrawKey::new(1, i, 0, Purpose::Build).uniform(0);
            assert!((0.0..1.0).contains(&u));
            sum += u;
            buckets[(u * 10.0) as usize] += 1;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
        for b in buckets {
            assert!((b as f64 / n as f64 - 0.1).abs() < 0.005, "{buckets:?}");
        }
    }

    /// Pearson's chi-square of `pairs` over a 16×16 grid of [0,1)², against uniform
    /// independent draws (255 degrees of freedom: mean 255, sd 22.6).
    fn grid_chi_square(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
        let mut cells = [0u32; 256];
        let mut n = 0;
        for (a, b) in pairs {
            cells[(a * 16.0) as usize * 16 + (b * 16.0) as usize] += 1;
            n += 1;
        }
        let expected = n as f64 / 256.0;
        cells.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
    }

    #[test]
    fn neighbouring_draws_look_independent() {
        // The pairs the model takes: one household's draws for consecutive sectors, the
        // same draw of consecutive agents, and of one agent in consecutive ticks. Beyond
        // 255 + 5 sd a grid of independent pairs lands about once in 200,000 (the upper
        // tail of chi-square with 255 degrees of freedom at 368 is 4.5e-6).
        let limit = 255.0 + 5.0 * 22.6;
        let n = 100_000u64;
        let stream = Stream::new(2025, 3, Purpose::RetailerChoice);
        let index: Vec<DrawIndex> = (0..8).map(DrawIndex::new).collect();
        let sectors = grid_chi_square((0..n).map(|a| {
            let key = stream.key(a);
            (key.uniform_at(index[(a % 7) as usize]), key.uniform_at(index[(a % 7 + 1) as usize]))
        }));
        let agents = grid_chi_square((0..n).map(|a| (stream.key(2 * a).uniform(0), stream.key(2 * a + 1).uniform(0))));
        let ticks = grid_chi_square((0..n).map(|a| {
            let key = |t| DrawKey::new(2025, a, t, Purpose::Layoff);
            (key(a % 50).uniform(1), key(a % 50 + 1).uniform(1))
        }));
        for (what, chi2) in [("sectors", sectors), ("agents", agents), ("ticks", ticks)] {
            assert!(chi2 < limit, "consecutive {what}: chi-square {chi2:.1} over 255 degrees of freedom");
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let key = DrawKey::new(3, 1, 1, Purpose::SupplierSearch);
        let mut seen = [false; 7];
        for i in 0..1000 {
            let k = key.below(i, 7) as usize;
            seen[k] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn counter_rng_drives_rand_distr() {
        let mut rng = DrawKey::new(1, 2, 0, Purpose::Build).rng();
        let d = LogNormal::new(0.0, 0.5).unwrap();
        let xs: Vec<f64> = (0..1000).map(|_| d.sample(&mut rng)).collect();
        assert!(xs.iter().all(|x| x.is_finite() && *x > 0.0));
        let mut rng2 = DrawKey::new(1, 2, 0, Purpose::Build).rng();
        assert_eq!(xs[0], d.sample(&mut rng2));
    }

    #[test]
    fn weighted_pick_respects_weights() {
        let w = [0.0, 1.0, 3.0];
        assert_eq!(pick_weighted(&w, 0.0), Some(1));
        assert_eq!(pick_weighted(&w, 0.24), Some(1));
        assert_eq!(pick_weighted(&w, 0.26), Some(2));
        assert_eq!(pick_weighted(&w, 0.999_999), Some(2));
        assert_eq!(pick_weighted(&[0.0, 0.0], 0.5), None);
        assert_eq!(pick_weighted(&[f64::NAN, 2.0], 0.1), Some(1));
        assert_eq!(pick_weighted(&[1.0, 0.0, f64::INFINITY], 0.999_999_999_999), Some(0));
    }

    /// The first usable index whose running sum exceeds `u × total`, found by scanning:
    /// what the branch-free count must equal exactly.
    fn pick_by_scan(weights: &[f64], u: f64) -> Option<usize> {
        let usable = |w: f64| w.is_finite() && w > 0.0;
        let total: f64 = weights.iter().map(|&w| if usable(w) { w } else { 0.0 }).sum();
        if !(total > 0.0 && total.is_finite()) {
            return None;
        }
        let target = u * total;
        let (mut acc, mut last) = (0.0, None);
        for (i, &w) in weights.iter().enumerate() {
            if usable(w) {
                acc += w;
                last = Some(i);
                if target < acc {
                    return Some(i);
                }
            }
        }
        last
    }

    #[test]
    fn branch_free_pick_equals_the_scan() {
        let specials = [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300, 1e300];
        for case in 0..20_000u64 {
            let key = DrawKey::new(5, case, 0, Purpose::Build);
            let n = 1 + key.below(0, 6) as usize;
            let weights: Vec<f64> = (0..n)
                .map(|i| {
                    let i = i as u64 + 1;
                    if key.uniform(10 * i) < 0.3 {
                        specials[key.below(10 * i + 1, specials.len() as u64) as usize]
                    } else {
                        key.uniform(10 * i + 2) * 10.0
                    }
                })
                .collect();
            // Draws at the ends of [0, 1) as well as inside it.
            for u in [0.0, key.uniform(99), 0.5, 1.0 - f64::EPSILON / 2.0] {
                assert_eq!(pick_weighted(&weights, u), pick_by_scan(&weights, u), "{weights:?} at {u}");
            }
        }
    }

    #[test]
    fn a_premixed_index_gives_the_same_draws() {
        let key = DrawKey::new(9, 4, 2, Purpose::RetailerChoice);
        for i in [0, 1, 7, u64::MAX] {
            assert_eq!(key.u64_at(DrawIndex::new(i)), key.u64(i));
            assert_eq!(key.uniform_at(DrawIndex::new(i)), key.uniform(i));
        }
    }
}
