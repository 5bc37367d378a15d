//! Households: earn wages, dividends and transfers; spend a budget across consumer sectors
//! at retailers they know.
//!
//! A household's state is split by who reads it: [`Household`] (region, job, ownership,
//! income) is streamed by the labour, income and demand passes; [`KnownRetailers`] (fixed
//! at build) and [`Budget`] (this tick's) only by demand and matching's refunds. At a
//! million households every pass streams its components from memory, so each carries
//! only what it needs, and demand writes back only the budget and cash.

use crate::units::Money;
use bevy_ecs::prelude::*;
use smallvec::SmallVec;

#[derive(Component, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Household {
    pub region: u16,
    /// Employer index, or [`super::NONE`] when unemployed.
    pub employer: u32,
    /// The firm (employer index) whose dividends this household shares, or `NONE`.
    pub owner_of: u32,
    /// Smoothed weekly income, currency units.
    pub income: f64,
}

/// Known retailers held inline: 15 fit the flagship's 5 consumer sectors with 3 known
/// retailers each; longer lists spill to the heap.
const INLINE_KNOWN: usize = 15;

/// The retailers a household knows, fixed when the world is built: `per_sector` slots per
/// consumer sector, sector by sector (retailer index or `NONE`). Only read after that, so
/// the passes over households never write it back.
#[derive(Component, Clone, Debug)]
pub struct KnownRetailers {
    slots: SmallVec<[u32; INLINE_KNOWN]>,
    per_sector: u16,
}

impl KnownRetailers {
    /// `known` holds `known.len() / sectors` retailer slots for each of `sectors` sectors.
    pub fn new(known: &[u32], sectors: usize) -> KnownRetailers {
        let per_sector = known.len().checked_div(sectors).unwrap_or(0);
        assert_eq!(per_sector * sectors, known.len(), "known retailers must be the same number in every sector");
        KnownRetailers { slots: SmallVec::from_slice(known), per_sector: per_sector as u16 }
    }

    /// Known retailers per sector.
    pub fn per_sector(&self) -> usize {
        self.per_sector as usize
    }

    /// The retailers known in consumer sector `k`.
    pub fn sector(&self, k: usize) -> &[u32] {
        let n = self.per_sector();
        &self.slots[k * n..(k + 1) * n]
    }

    /// All known retailers, `per_sector` per sector, sector by sector.
    pub fn all(&self) -> &[u32] {
        &self.slots
    }
}

/// This tick's shopping budget, cents. Consumer sector `k` gets `floor(budget × its
/// share)` (the share published in pricing), ordered from the retailer the household's
/// draw picks among those it knows (`economy::demand::Orders`).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget(pub Money);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::NONE;

    #[test]
    fn known_retailers_are_kept_by_sector() {
        let k = KnownRetailers::new(&[1, 2, 3, 4, 5, NONE], 2);
        assert_eq!(k.per_sector(), 3);
        assert_eq!(k.sector(0), &[1, 2, 3]);
        assert_eq!(k.sector(1), &[4, 5, NONE]);
        assert_eq!(k.all(), &[1, 2, 3, 4, 5, NONE]);
        // Longer lists than fit inline work the same.
        let known: Vec<u32> = (0..64).collect();
        let big = KnownRetailers::new(&known, 4);
        assert_eq!(big.sector(3), &known[48..64]);
    }
}
