//! Households: earn wages, dividends and transfers; spend a budget across consumer sectors
//! at retailers they know.
//!
//! A household's state is split by who reads it: [`Household`] (region, job, ownership,
//! income) is streamed by the labour, income and demand passes; [`Shopping`] (known
//! retailers, this tick's budget and choices) only by demand and matching. At a million
//! households every pass streams its components from memory, so each carries only what
//! it needs.

use crate::market::NONE;
use crate::units::Money;
use bevy_ecs::prelude::*;
use smallvec::SmallVec;

#[derive(Component, Clone, Debug)]
pub struct Household {
    pub region: u16,
    /// Employer index, or [`crate::market::NONE`] when unemployed.
    pub employer: u32,
    /// The firm (employer index) whose dividends this household shares, or `NONE`.
    pub owner_of: u32,
    /// Smoothed weekly income, currency units.
    pub income: f64,
}

/// Known retailers and choices held inline: 20 fit the flagship's 5 consumer sectors with
/// 3 known retailers each plus one choice each; larger lists spill to the heap.
const INLINE_SLOTS: usize = 20;

/// Where a household shops, and this tick's order.
#[derive(Component, Clone, Debug)]
pub struct Shopping {
    /// This tick's budget, cents. Consumer sector `k` gets `floor(budget × its share)` (the
    /// share published in pricing), ordered from `choices()[k]`.
    pub budget: Money,
    /// Known retailers, `per_sector` slots per consumer sector (retailer index or `NONE`),
    /// followed by this tick's choice in each consumer sector (`NONE`: nothing ordered).
    slots: SmallVec<[u32; INLINE_SLOTS]>,
    per_sector: u16,
    sectors: u16,
}

impl Shopping {
    /// `known` holds `known.len() / sectors` retailer slots for each of `sectors` sectors.
    pub fn new(known: &[u32], sectors: usize) -> Shopping {
        let per_sector = known.len().checked_div(sectors).unwrap_or(0);
        assert_eq!(per_sector * sectors, known.len(), "known retailers must be the same number in every sector");
        let mut slots: SmallVec<[u32; INLINE_SLOTS]> = SmallVec::with_capacity(known.len() + sectors);
        slots.extend_from_slice(known);
        slots.extend(std::iter::repeat_n(NONE, sectors));
        Shopping { budget: Money::ZERO, slots, per_sector: per_sector as u16, sectors: sectors as u16 }
    }

    pub fn sectors(&self) -> usize {
        self.sectors as usize
    }

    /// Known retailers per sector.
    pub fn per_sector(&self) -> usize {
        self.per_sector as usize
    }

    /// The retailers known in consumer sector `k`.
    pub fn known(&self, k: usize) -> &[u32] {
        let n = self.per_sector();
        &self.slots[k * n..(k + 1) * n]
    }

    /// This tick's choices, one per consumer sector (`NONE`: nothing ordered).
    pub fn choices(&self) -> &[u32] {
        &self.slots[self.per_sector() * self.sectors()..]
    }

    /// All known retailers (`per_sector` per sector, sector by sector) and the choices, to
    /// be written together.
    pub fn known_and_choices_mut(&mut self) -> (&[u32], &mut [u32]) {
        let at = self.per_sector() * self.sectors();
        let (known, choices) = self.slots.split_at_mut(at);
        (known, choices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopping_keeps_known_retailers_and_choices_apart() {
        let mut s = Shopping::new(&[1, 2, 3, 4, 5, NONE], 2);
        assert_eq!(s.sectors(), 2);
        assert_eq!(s.known(0), &[1, 2, 3]);
        assert_eq!(s.known(1), &[4, 5, NONE]);
        assert_eq!(s.choices(), &[NONE, NONE]);
        s.known_and_choices_mut().1[1] = 5;
        assert_eq!(s.choices(), &[NONE, 5]);
        assert_eq!(s.known(1), &[4, 5, NONE]);
        assert_eq!(s.known_and_choices_mut().0, &[1, 2, 3, 4, 5, NONE]);
        // Longer lists than fit inline work the same.
        let known: Vec<u32> = (0..64).collect();
        let mut big = Shopping::new(&known, 4);
        big.known_and_choices_mut().1[3] = 63;
        assert_eq!(big.known(3), &known[48..64]);
        assert_eq!(big.choices(), &[NONE, NONE, NONE, 63]);
    }
}
