//! Phase 8, income: firms pay wages to their staff and pay out cash above a buffer as
//! dividends to the households that own them; governments recycle tariff revenue by their
//! rule; households receive it all. Every amount is computed once, in cents, and moved
//! from one side to the other, so money is conserved exactly.

use crate::agents::producer::Production;
use crate::agents::{Cash, Government, Home, Household, Producer, Shelf, Staff};
use crate::economy::finance::{ForeignAccounts, HouseholdLending, lent_from};
use crate::market::{EmployerBoard, Model, NONE, Transfers, Wages};
use crate::metrics::{HouseholdCash, Observed};
use crate::scenario::{Behaviour, Recycling};
use crate::threads::{MIN_PARALLEL_HOUSEHOLDS, for_each_agent, for_each_run, for_each_run_init, publish};
use crate::units::{CENTS_PER_UNIT, Money};
use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::prelude::*;
use std::sync::Mutex;

/// Wages: a Phillips curve anchors nominal demand. Each week the wage moves by
/// `wage_flexibility` × (target unemployment − last week's unemployment), plus
/// `wage_indexation` × last week's CPI inflation.
pub fn index_wages(model: Res<Model>, observed: Res<Observed>, mut wages: ResMut<Wages>) {
    let b = &model.scenario.behaviour;
    let target = 1.0 - b.target_employment;
    for (r, wage) in wages.per_worker.iter_mut().enumerate() {
        if model.households[r] == 0 {
            continue;
        }
        let inflation =
            if observed.cpi_previous[r] > 0.0 { observed.cpi[r] / observed.cpi_previous[r] - 1.0 } else { 0.0 };
        let growth = b.wage_flexibility * (target - observed.unemployment_rate[r]) + b.wage_indexation * inflation;
        let w = wage.units() * (1.0 + growth);
        if w.is_finite() && w > 0.0 {
            *wage = Money::from_units(w);
        }
    }
}

/// Wages out, revenue smoothed, then dividends from cash above `cash_buffer_weeks` of revenue.
/// Producers and retailers run as runs of their own tables (a query each), so that the
/// pass reads each kind's revenue without testing which kind a firm is, and writes no
/// change ticks.
pub fn pay_wages_and_dividends(
    model: Res<Model>,
    wages: Res<Wages>,
    mut producers: Query<(&Home, &mut Staff, &mut Cash, &Production)>,
    mut retailers: Query<(&Home, &mut Staff, &mut Cash, &Shelf), Without<Production>>,
) {
    let (b, wages) = (&model.scenario.behaviour, &*wages);
    for_each_run!(producers, |(homes, mut staff, mut cash, prods): FirmRun<Production>| {
        let (staff, cash) = (staff.bypass_change_detection(), cash.bypass_change_detection());
        for (((home, staff), cash), prod) in homes.iter().zip(staff).zip(cash).zip(prods) {
            pay_firm(b, wages, home, staff, cash, prod.revenue);
        }
    });
    for_each_run!(retailers, |(homes, mut staff, mut cash, shelves): FirmRun<Shelf>| {
        let (staff, cash) = (staff.bypass_change_detection(), cash.bypass_change_detection());
        for (((home, staff), cash), shelf) in homes.iter().zip(staff).zip(cash).zip(shelves) {
            pay_firm(b, wages, home, staff, cash, shelf.revenue);
        }
    });
}

/// A run of firms' books (a table slice): home, staff, cash, and their producer or
/// retailer state `K`.
type FirmRun<'a, K> = (&'a [Home], ContiguousMut<'a, Staff>, ContiguousMut<'a, Cash>, &'a [K]);

/// One firm (of region `home`, with this tick's `revenue` in cents) pays its wage bill,
/// smooths its revenue, and pays out dividends or calls capital.
#[inline]
fn pay_firm(b: &Behaviour, wages: &Wages, home: &Home, staff: &mut Staff, cash: &mut Cash, revenue: i64) {
    let bill = Money(wages.per_worker[home.0 as usize].0 * staff.workers as i64);
    cash.0 -= bill;
    let revenue = revenue as f64 / CENTS_PER_UNIT;
    staff.revenue_avg += b.forecast_smoothing * (revenue - staff.revenue_avg);
    let buffer = Money::from_units(b.cash_buffer_weeks * staff.revenue_avg);
    let excess = cash.0 - buffer;
    staff.dividend_per_owner = Money::ZERO;
    staff.capital_call_per_owner = Money::ZERO;
    if staff.owners > 0 {
        let owners = staff.owners as i64;
        if excess.is_positive() {
            let dividend = Money::floor_cents(excess.0 as f64 * b.dividend_rate);
            let per_owner = Money(dividend.0 / owners);
            cash.0 -= Money(per_owner.0 * owners);
            staff.dividend_per_owner = per_owner;
        } else {
            // Below its buffer, the firm asks its owners to put money back in.
            let call = Money::floor_cents(-excess.0 as f64 * b.dividend_rate);
            staff.capital_call_per_owner = Money(call.0 / owners);
        }
    }
}

pub fn publish_payouts(mut board: ResMut<EmployerBoard>, firms: Query<&Staff>) {
    let board = &mut *board;
    board.capital_paid.clear();
    let tables: Vec<&[Staff]> = firms.contiguous_iter().expect("firm components live in tables").collect();
    let rows = || tables.iter().map(|&t| (t, t));
    let employer = |s: &Staff| s.employer as usize;
    publish(&mut board.dividend_per_owner, rows(), employer, |s, _| s.dividend_per_owner.0);
    publish(&mut board.capital_call_per_owner, rows(), employer, |s, _| s.capital_call_per_owner.0);
}

/// Governments pay out `share` of their cash to households or a sector's producers, in
/// equal whole-cent parts; the remainder stays with the government.
pub fn recycle_revenue(
    model: Res<Model>,
    mut transfers: ResMut<Transfers>,
    mut governments: Query<(&Government, &mut Cash)>,
) {
    let sc = &*model.scenario;
    for (gov, mut cash) in &mut governments {
        let r = gov.region as usize;
        transfers.per_household[r] = 0;
        transfers.aid_per_producer[r] = (0, 0);
        let available = cash.0.0.max(0) as f64;
        match sc.regions[r].recycling {
            Recycling::Hold => {}
            Recycling::LumpSum { share } => {
                let n = model.households[r] as i64;
                if n > 0 {
                    let per = (available * share).floor() as i64 / n;
                    cash.0 -= Money(per * n);
                    transfers.per_household[r] = per;
                }
            }
            Recycling::SectorAid { sector, share } => {
                let n = sc.regions[r].producers_per_sector as i64;
                if n > 0 {
                    let per = (available * share).floor() as i64 / n;
                    cash.0 -= Money(per * n);
                    transfers.aid_per_producer[r] = (sector, per);
                }
            }
        }
    }
}

/// Households receive wages, dividends and transfers, and update their smoothed income.
/// Nothing pays households after this, so the same pass sums what they hold by region
/// for the metrics ([`HouseholdCash`]).
#[allow(clippy::too_many_arguments)]
pub fn receive_income(
    model: Res<Model>,
    wages: Res<Wages>,
    board: Res<EmployerBoard>,
    transfers: Res<Transfers>,
    accounts: Res<ForeignAccounts>,
    mut held: ResMut<HouseholdCash>,
    mut lending: ResMut<HouseholdLending>,
    mut households: Query<(&mut Household, &mut Cash)>,
) {
    let smoothing = model.scenario.behaviour.income_smoothing;
    let total = Mutex::new(vec![0i128; model.n_regions]);
    let lent_total = Mutex::new(vec![0i128; model.n_regions]);
    let min = MIN_PARALLEL_HOUSEHOLDS;
    let (lend_rate, borrowed) = (&accounts.lend_rate, &accounts.per_household);
    for_each_run_init!(
        households,
        parallel_from = min,
        || {
            let nr = model.n_regions;
            (board.capital_paid.local(), HouseholdCash::batch(&total, nr), HouseholdCash::batch(&lent_total, nr))
        },
        |(capital, cash_by_region, lent_by_region), (mut hhs, mut cash)| {
            for (hh, cash) in hhs.bypass_change_detection().iter_mut().zip(cash.bypass_change_detection()) {
                let r = hh.region as usize;
                let mut income = transfers.per_household[r];
                if hh.employer != NONE {
                    income += wages.per_worker[r].0;
                }
                if hh.owner_of != NONE {
                    income += board.dividend_per_owner[hh.owner_of as usize];
                }
                // Surplus regions' households lend a share of their gross income abroad;
                // deficit regions' receive their part of what their region borrowed.
                let lends = lent_from(lend_rate[r], income);
                if lends != 0 {
                    lent_by_region.add(r, lends);
                }
                income += borrowed[r] - lends;
                let mut paid_in = 0;
                if hh.owner_of != NONE {
                    let firm = hh.owner_of as usize;
                    // A capital call is paid from cash, as far as cash goes.
                    paid_in = board.capital_call_per_owner[firm].min(cash.0.0 + income).max(0);
                    if paid_in != 0 {
                        capital.add(firm, paid_in);
                    }
                }
                cash.0 += Money(income - paid_in);
                cash_by_region.add(r, cash.0.0);
                hh.income += smoothing * (income as f64 / CENTS_PER_UNIT - hh.income);
            }
        },
    );
    board.capital_paid.settle();
    held.by_region = total.into_inner().unwrap_or_else(|e| e.into_inner());
    let lent = lent_total.into_inner().unwrap_or_else(|e| e.into_inner());
    lending.by_region = lent.iter().map(|&c| c as i64).collect();
}

/// Firms receive what their owners paid in against capital calls.
pub fn collect_capital(board: Res<EmployerBoard>, mut firms: Query<(&Staff, &mut Cash)>) {
    for_each_run!(firms, |(staff, mut cash): (&[Staff], ContiguousMut<Cash>)| {
        for (staff, cash) in staff.iter().zip(cash.bypass_change_detection()) {
            cash.0 += Money(board.capital_paid.get(staff.employer as usize));
        }
    });
}

/// Producers of an aided sector receive their government's aid.
pub fn receive_aid(transfers: Res<Transfers>, mut producers: Query<(&Producer, &mut Cash)>) {
    for_each_agent!(producers, |(p, mut cash)| {
        let (sector, per) = transfers.aid_per_producer[p.region as usize];
        if per > 0 && sector == p.sector as usize {
            cash.0 += Money(per);
        }
    });
}
