//! Units of account: money is integer minor units (cents), goods are `f64` quantities.
//!
//! Every payment in the model moves a [`Money`] amount computed once and applied to both
//! sides, so the world's money stock is conserved exactly (MODEL.md §3).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Minor units (cents) per currency unit.
pub const CENTS_PER_UNIT: f64 = 100.0;

/// The most cents a conversion from floating point gives: 2^61 (`i64::MAX` is 2^63 − 1),
/// so that sums of a few saturated amounts still do not overflow.
const CENTS_CAP: f64 = i64::MAX as f64 / 4.0;

/// An amount of money in integer minor units (cents).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// The nearest cent to `units` currency units; non-finite or negative input gives zero,
    /// and the result saturates instead of overflowing.
    pub fn from_units(units: f64) -> Money {
        Money(to_cents(units * CENTS_PER_UNIT))
    }

    /// Cents rounded down from a non-negative cent amount in floating point.
    #[inline]
    pub fn floor_cents(cents: f64) -> Money {
        // Truncation is the floor of a positive number (and needs no libm call). The two
        // comparisons are false for NaN, so the common case costs two compares and one
        // conversion; the rare ones keep the saturating rule (above the cap: the cap; not
        // finite or not positive: zero).
        if cents > 0.0 && cents <= CENTS_CAP {
            // SAFETY: `cents` is finite and in (0, 2^61], well inside i64's range.
            Money(unsafe { cents.to_int_unchecked::<i64>() })
        } else if cents > CENTS_CAP && cents.is_finite() {
            Money(CENTS_CAP as i64)
        } else {
            Money::ZERO
        }
    }

    /// The amount in currency units (for output only; never used to move money).
    pub fn units(self) -> f64 {
        self.0 as f64 / CENTS_PER_UNIT
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

/// `x.is_finite() && x > 0.0`, in two comparisons (both false for NaN) instead of a test
/// of the exponent bits and a comparison.
#[inline(always)]
pub fn positive_finite(x: f64) -> bool {
    x > 0.0 && x <= f64::MAX
}

/// Rounds a non-negative cent amount to the nearest integer; non-finite or negative gives 0.
/// Amounts are capped far below `i64::MAX` so that sums of many of them cannot overflow.
#[inline]
pub fn to_cents(cents: f64) -> i64 {
    // Half away from zero, as `f64::round`, without a libm call: the fractional part of a
    // positive double is exact. Both comparisons are false for NaN.
    if cents > 0.0 && cents < CENTS_CAP {
        // SAFETY: `cents` is finite and in (0, 2^61), well inside i64's range.
        let whole = unsafe { cents.to_int_unchecked::<i64>() };
        if cents - whole as f64 >= 0.5 { whole + 1 } else { whole }
    } else if cents >= CENTS_CAP && cents.is_finite() {
        CENTS_CAP as i64
    } else {
        0
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// The smallest price the model lets any agent post, so that quantities computed as
/// value / price stay finite when a sector's costs collapse to zero.
pub const MIN_PRICE: f64 = 1e-6;

/// The largest price (base prices are about 1). A firm whose own imported input carries a
/// prohibitive tariff can otherwise spiral its price geometrically until cent amounts
/// overflow; capped, the nonsense stays finite and money stays exact.
pub const MAX_PRICE: f64 = 1e4;

/// The value in cents of `quantity` units at `price` currency units per unit.
pub fn value_cents(quantity: f64, price: f64) -> i64 {
    to_cents(quantity * price * CENTS_PER_UNIT)
}

/// The quantity bought by `cents` at `price` currency units per unit.
pub fn quantity_for(cents: i64, price: f64) -> f64 {
    if cents <= 0 {
        return 0.0;
    }
    cents as f64 / (price.max(MIN_PRICE) * CENTS_PER_UNIT)
}

/// Splits a whole `total` (cents, slots) in proportion to `shares` exactly: each gets the
/// floor of its part, and the cents left go one each to the largest remainders (ties to
/// the lower index). Nothing is split when no share is positive.
pub fn apportion(total: i64, shares: &[f64]) -> Vec<i64> {
    let mut parts = vec![0i64; shares.len()];
    let sum: f64 = shares.iter().filter(|s| **s > 0.0).sum();
    if total <= 0 || sum <= 0.0 {
        return parts;
    }
    let mut remainders = Vec::new();
    for (r, &share) in shares.iter().enumerate() {
        if share > 0.0 {
            let exact = total as f64 * share / sum;
            parts[r] = (exact.floor() as i64).clamp(0, total);
            remainders.push((exact - parts[r] as f64, r));
        }
    }
    let mut left = total - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // Floating point can leave the floors a few cents over or under `total`; walk the
    // remainders until the parts add up.
    let mut k = 0;
    while left != 0 && !remainders.is_empty() {
        let r = remainders[k % remainders.len()].1;
        if left > 0 {
            parts[r] += 1;
            left -= 1;
        } else if parts[r] > 0 {
            parts[r] -= 1;
            left += 1;
        }
        k += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cent_rounding_matches_the_standard_library() {
        let mut values = vec![0.5, 1.5, 2.5, 0.49999999999999994, 4503599627370495.5, 1e15 + 0.5, 123.456, 7.0];
        let mut x = 0.37_f64;
        for _ in 0..10_000 {
            x = (x * 1.618_033_988_749_895 + 0.1) % 1e7;
            values.push(x);
            values.push(x.floor() + 0.5);
        }
        for v in values {
            assert_eq!(to_cents(v), v.round() as i64, "to_cents({v})");
            assert_eq!(Money::floor_cents(v).0, v.floor() as i64, "floor_cents({v})");
        }
        assert_eq!(to_cents(-3.0), 0);
        assert_eq!(to_cents(f64::NAN), 0);
        assert_eq!(Money::floor_cents(-0.5), Money::ZERO);
    }

    #[test]
    fn rounding_is_safe_for_nonsense() {
        assert_eq!(to_cents(f64::NAN), 0);
        assert_eq!(to_cents(f64::INFINITY), 0);
        assert_eq!(to_cents(-5.0), 0);
        assert_eq!(to_cents(2.5), 3);
        assert!(to_cents(1e300) > 0);
        assert_eq!(Money::from_units(12.345), Money(1235));
        assert_eq!(Money::floor_cents(99.99), Money(99));
    }

    #[test]
    fn conversions_saturate_at_the_cap_and_refuse_what_is_not_finite() {
        let cap = (i64::MAX as f64 / 4.0) as i64;
        assert_eq!(cap, 1 << 61);
        let below = f64::from_bits((cap as f64).to_bits() - 1);
        for v in [below, cap as f64, (cap as f64) * 1.5, 1e300, f64::MAX] {
            let expected = if v < cap as f64 { v as i64 } else { cap };
            assert_eq!(to_cents(v), expected, "to_cents({v})");
            assert_eq!(Money::floor_cents(v).0, expected, "floor_cents({v})");
        }
        for v in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -0.0, 0.0, -1e300, f64::MIN_POSITIVE] {
            assert_eq!(to_cents(v), 0, "to_cents({v})");
            assert_eq!(Money::floor_cents(v), Money::ZERO, "floor_cents({v})");
        }
    }

    #[test]
    fn display_shows_currency_units() {
        assert_eq!(Money(-1205).to_string(), "-12.05");
        assert_eq!(Money(7).to_string(), "0.07");
    }

    #[test]
    fn quantity_round_trips_value() {
        let cents = value_cents(3.0, 2.5);
        assert_eq!(cents, 750);
        assert!((quantity_for(cents, 2.5) - 3.0).abs() < 1e-12);
        assert_eq!(quantity_for(100, 0.0), 100.0 / (MIN_PRICE * 100.0));
    }
    #[test]
    fn apportion_splits_every_cent() {
        assert_eq!(apportion(10, &[0.0, 0.5, 0.5]), vec![0, 5, 5]);
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 0.0]), vec![0, 0]);
        assert_eq!(apportion(0, &[1.0]), vec![0]);
        for total in [1, 99, 1_000_003, 9_007_199_254_740_993] {
            let shares = [0.83, 0.0, 0.17, 1e-9, 0.3];
            let parts = apportion(total, &shares);
            assert_eq!(parts.iter().sum::<i64>(), total, "{total}: {parts:?}");
            assert!(parts.iter().all(|&p| p >= 0) && parts[1] == 0, "{parts:?}");
        }
    }
}
