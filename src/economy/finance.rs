//! Financed trade imbalances (issue 22): a surplus region's households lend part of their
//! income abroad, and what they lend is lent on to the deficit regions, whose households
//! receive it and spend it. Each region can so spend more, or less, than it earns, by its
//! base-period trade balance (`regions[].trade_balance`), and its money stock stays put.
//!
//! The mechanism is Godley and Lavoie's open economy with one currency (*Monetary
//! Economics*, 2007, ch. 6 and 12, with the world's money as the one outside asset): a
//! region's net foreign assets are the claims its lending has bought (a world bond, with
//! no return in this model) plus the money it holds above what it held at the start. A
//! trade surplus is paid for in money that comes in from abroad; lending it sends it back
//! out. So the sum of regions' net foreign assets is zero (every claim has a debtor, and
//! money is conserved), and each region's change in them is its current account: its
//! receipts from foreign buyers less its payments to foreign sellers. Metrics checks both
//! every tick (`metrics::Ledger`).
//!
//! Within a tick, in the income phase: [`lend_abroad`] lends what the surplus regions'
//! households put aside in the previous tick and apportions it, to the cent, over the
//! deficit regions (`units::apportion`); `income::receive_income` pays each deficit region's
//! households their equal part, takes `lend_rate` of each surplus household's gross
//! income, and tallies it in [`HouseholdLending`]; [`collect_lending`] holds that until
//! the next tick.

use crate::market::Model;
use crate::world::calibrate::Financing;
use bevy_ecs::prelude::*;

/// The money and claims of the regions' external accounts, cents.
#[derive(Resource, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ForeignAccounts {
    /// Share of gross household income each region's households lend abroad.
    pub lend_rate: Vec<f64>,
    /// Each deficit region's share of all that is lent.
    pub borrow_share: Vec<f64>,
    /// Lent by each region's households in the last income pass, lent abroad next tick.
    pub in_hand: Vec<i64>,
    /// Borrowed by each region and not yet paid to its households (less than a cent per
    /// household; paid with the next loan).
    pub undisbursed: Vec<i64>,
    /// Paid to each household of a region from what it borrowed this tick.
    pub per_household: Vec<i64>,
    /// Net claims from lending (positive: the region is a creditor), by region.
    pub claims: Vec<i128>,
    /// Lent abroad this tick (negative: borrowed), by region.
    pub lent: Vec<i64>,
}

impl ForeignAccounts {
    /// The accounts of a freshly built world whose households lent `in_hand` in the week
    /// before tick 0.
    pub fn new(financing: &Financing, in_hand: Vec<i64>) -> ForeignAccounts {
        let nr = financing.lend_rate.len();
        ForeignAccounts {
            lend_rate: financing.lend_rate.clone(),
            borrow_share: financing.borrow_share.clone(),
            in_hand,
            undisbursed: vec![0; nr],
            per_household: vec![0; nr],
            claims: vec![0; nr],
            lent: vec![0; nr],
        }
    }

    /// Money the accounts hold for region `r` (lent and not yet passed on, or borrowed and
    /// not yet paid out).
    pub fn money(&self, r: usize) -> i64 {
        self.in_hand[r] + self.undisbursed[r]
    }
}

/// What a household with `gross` cents of income this tick lends abroad at `rate`.
#[inline]
pub fn lent_from(rate: f64, gross: i64) -> i64 {
    if rate > 0.0 && gross > 0 { crate::units::Money::floor_cents(rate * gross as f64).0 } else { 0 }
}

/// What households lent in this tick's income pass, by region, cents: filled by
/// `income::receive_income`, emptied by [`collect_lending`].
#[derive(Resource, Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct HouseholdLending {
    pub by_region: Vec<i64>,
}

/// The surplus regions lend abroad what their households put aside last tick; it is split
/// over the deficit regions by their shares, and each deficit region's households get an
/// equal part of it in this tick's income.
pub fn lend_abroad(model: Res<Model>, mut accounts: ResMut<ForeignAccounts>) {
    let a = &mut *accounts;
    a.lent.iter_mut().for_each(|x| *x = 0);
    a.per_household.iter_mut().for_each(|x| *x = 0);
    let total: i64 = a.in_hand.iter().sum();
    let borrowed = crate::units::apportion(total, &a.borrow_share);
    if borrowed.iter().sum::<i64>() != total {
        // No region borrows (a world whose deficits cannot be financed): keep the money.
        return;
    }
    for (r, &borrowed) in borrowed.iter().enumerate().take(model.n_regions) {
        let lent = std::mem::take(&mut a.in_hand[r]) - borrowed;
        a.lent[r] = lent;
        a.claims[r] += lent as i128;
        a.undisbursed[r] += borrowed;
        let n = model.households[r] as i64;
        if n > 0 {
            a.per_household[r] = a.undisbursed[r] / n;
            a.undisbursed[r] -= a.per_household[r] * n;
        }
    }
}

/// Holds what households lent in this tick's income pass until the next tick's loans.
pub fn collect_lending(mut lending: ResMut<HouseholdLending>, mut accounts: ResMut<ForeignAccounts>) {
    for (held, lent) in accounts.in_hand.iter_mut().zip(lending.by_region.iter_mut()) {
        *held += std::mem::take(lent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_household_lends_its_share_rounded_down() {
        assert_eq!(lent_from(0.05, 1_000), 50);
        assert_eq!(lent_from(0.05, 19), 0);
        assert_eq!(lent_from(0.0, 1_000), 0);
        assert_eq!(lent_from(0.05, -10), 0);
    }
}
