//! Phase 1, policy: governments apply scheduled events and evaluate their reactive rules
//! on last tick's observations (MODEL.md §5); `publish_tariffs` then fixes the table in
//! force for the whole tick. Every change is logged with its cause.

use crate::agents::government::{PendingAnswer, PolicyChange, RuleState};
use crate::agents::{Government, PolicyState, TariffSchedule};
use crate::market::{Announcement, Clock, Grace, Model, TariffTable};
use crate::metrics::Observed;
use crate::scenario::{EventKind, Rule, RuleKind, Scenario};
use bevy_ecs::prelude::*;

/// Applies this tick's scheduled events, evaluates rules, and answers due tit-for-tats.
pub fn apply_policy(
    clock: Res<Clock>,
    model: Res<Model>,
    table: Res<TariffTable>,
    observed: Res<Observed>,
    mut governments: Query<(&Government, &mut TariffSchedule, &mut PolicyState)>,
) {
    let now = clock.tick;
    let sc = &*model.scenario;
    // One government per region: too few to be worth a parallel pass.
    governments.iter_mut().for_each(|(gov, mut schedule, mut policy)| {
        let policy = &mut *policy;
        policy.log.clear();
        if !model.policy_enabled {
            return;
        }
        let g = gov.region as usize;
        let mut book = Book { schedule: &mut schedule, log: &mut policy.log, now, government: g };
        for event in sc.events.iter().filter(|e| e.government == g && e.effective_tick == now) {
            let cause = format!("event: {}", event.name);
            for &s in &event.sectors {
                match event.kind {
                    EventKind::SetTariff(v) => book.set_rate(event.partner, s, v, event.grace_until_tick, &cause),
                    EventKind::AddTariff(v) => {
                        let old = book.rate(event.partner, s);
                        book.set_rate(event.partner, s, (old + v).max(0.0), event.grace_until_tick, &cause)
                    }
                    EventKind::Boycott(v) => book.set_boycott(event.partner, s, v, &cause),
                }
            }
        }
        let pre_war = sc.first_policy_tick().unwrap_or(0);
        for (k, &rule_index) in policy.rules.iter().enumerate() {
            let rule = &sc.rules[rule_index];
            let state = &mut policy.state[k];
            evaluate_rule(sc, rule, k, state, &table, &observed, &mut book, &mut policy.pending, pre_war);
        }
        let (due, later): (Vec<_>, Vec<_>) = policy.pending.drain(..).partition(|p| p.due <= now);
        policy.pending = later;
        for answer in due {
            let rule = &sc.rules[policy.rules[answer.rule]];
            if let RuleKind::TitForTat { match_share, cap, .. } = rule.kind {
                let cause = format!(
                    "tit_for_tat '{}': answers a {:+.1} pp increase by {}",
                    rule.name,
                    answer.increase * 100.0,
                    sc.regions[rule.partner].name
                );
                for &s in &rule.sectors {
                    let old = book.rate(rule.partner, s);
                    let new = (old + match_share * answer.increase).min(cap).max(old);
                    book.set_rate(rule.partner, s, new, None, &cause);
                }
            }
        }
    });
}

/// A government's schedule and log, with the bookkeeping every change needs.
struct Book<'a> {
    schedule: &'a mut TariffSchedule,
    log: &'a mut Vec<PolicyChange>,
    now: u32,
    government: usize,
}

impl Book<'_> {
    fn rate(&self, partner: usize, sector: usize) -> f64 {
        self.schedule.rate[self.schedule.cell(partner, sector)]
    }

    fn set_rate(&mut self, partner: usize, sector: usize, new: f64, grace_until: Option<u32>, cause: &str) {
        // Rates are set in percentage points; keep sums like 0.208 + 0.1 free of float noise.
        let new = (new * 1e12).round() / 1e12;
        let c = self.schedule.cell(partner, sector);
        let old = self.schedule.rate[c];
        if old == new {
            return;
        }
        self.schedule.rate[c] = new;
        // The rate before this week, if the cell already changed this week.
        let before_week = self
            .log
            .iter()
            .find(|ch| ch.partner == partner && ch.sector == sector && ch.instrument == "tariff")
            .map(|ch| ch.old);
        let now = self.now;
        let grace = &mut self.schedule.grace[c];
        let running = grace.until.is_some_and(|until| now <= until) && grace.changed_at < now;
        match before_week {
            // A second change in the same week: goods shipped before the week keep the rate
            // from before it, for the longer of the two grace periods.
            Some(_) if grace.changed_at == now => grace.until = grace.until.max(grace_until),
            Some(previous) if grace_until.is_some() => {
                *grace = Grace { previous_rate: previous, changed_at: now, until: grace_until }
            }
            Some(_) => {}
            // A change without grace leaves an earlier grace period running.
            None if grace_until.is_none() && running => {}
            None => *grace = Grace { previous_rate: old, changed_at: now, until: grace_until },
        }
        self.log.push(PolicyChange {
            tick: self.now,
            government: self.government,
            partner,
            sector,
            instrument: "tariff",
            old,
            new,
            cause: cause.to_string(),
        });
    }

    fn set_boycott(&mut self, partner: usize, sector: usize, new: f64, cause: &str) {
        let c = self.schedule.cell(partner, sector);
        let old = self.schedule.boycott[c];
        if old == new {
            return;
        }
        self.schedule.boycott[c] = new;
        self.log.push(PolicyChange {
            tick: self.now,
            government: self.government,
            partner,
            sector,
            instrument: "boycott",
            old,
            new,
            cause: cause.to_string(),
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate_rule(
    sc: &Scenario,
    rule: &Rule,
    k: usize,
    state: &mut RuleState,
    table: &TariffTable,
    observed: &Observed,
    book: &mut Book,
    pending: &mut Vec<PendingAnswer>,
    pre_war: u32,
) {
    let now = book.now;
    let g = rule.government;
    let p = rule.partner;
    let active = now >= rule.active_from && now < rule.active_until;
    match rule.kind {
        RuleKind::TitForTat { lag, .. } => {
            // The partner's mean rate on our exports, as in force last tick.
            let n = rule.sectors.len().max(1) as f64;
            let mean: f64 = rule.sectors.iter().map(|&s| table.rate(p, g, s)).sum::<f64>() / n;
            if let Some(seen) = state.last_seen
                && active
                && mean > seen + 1e-12
            {
                // Seen one tick after it took effect; answer `lag` ticks after that.
                pending.push(PendingAnswer { due: now + lag - 1, rule: k, increase: mean - seen });
            }
            state.last_seen = Some(mean);
        }
        RuleKind::ShortageExemption { threshold, window, exempt_rate } => {
            for &s in &rule.sectors {
                let shortage = observed.shortage_rate[g * sc.n_sectors() + s];
                state.streak[s] = if shortage > threshold { state.streak[s] + 1 } else { 0 };
                if active && !state.fired[s] && state.streak[s] >= window {
                    state.fired[s] = true;
                    if book.rate(p, s) > exempt_rate {
                        let cause = format!(
                            "shortage_exemption '{}': {} shortage rate {:.1}% above {:.1}% for {} weeks",
                            rule.name,
                            sc.sectors[s].name,
                            shortage * 100.0,
                            threshold * 100.0,
                            state.streak[s]
                        );
                        book.set_rate(p, s, exempt_rate, None, &cause);
                    }
                }
            }
        }
        RuleKind::DeEscalation { trade_drop, gdp_loss, window, baseline, rate } => {
            let trade = observed.bilateral_trade[g * sc.n_regions() + p];
            // Observations now are of tick now-1: the baseline is the `baseline` ticks before the war.
            if now + baseline > pre_war && now <= pre_war {
                state.baseline_trade += trade;
                state.baseline_gdp += observed.gdp[g];
                state.baseline_ticks += 1;
            }
            if now <= pre_war || state.done || state.baseline_ticks == 0 {
                return;
            }
            let base_trade = state.baseline_trade / state.baseline_ticks as f64;
            let base_gdp = state.baseline_gdp / state.baseline_ticks as f64;
            let trade_ratio =
                if base_trade > 0.0 { observed.bilateral_trade_avg[g * sc.n_regions() + p] / base_trade } else { 1.0 };
            let gdp_ratio = if base_gdp > 0.0 { observed.gdp_avg[g] / base_gdp } else { 1.0 };
            let by_trade = trade_drop.is_some_and(|d| trade_ratio < 1.0 - d);
            let by_gdp = gdp_loss.is_some_and(|l| gdp_ratio < 1.0 - l);
            state.trigger_streak = if by_trade || by_gdp { state.trigger_streak + 1 } else { 0 };
            if active && state.trigger_streak >= window {
                state.done = true;
                let cause = format!(
                    "de_escalation '{}': bilateral trade with {} at {:.0}% and GDP at {:.1}% of pre-war for {} weeks",
                    rule.name,
                    sc.regions[p].name,
                    trade_ratio * 100.0,
                    gdp_ratio * 100.0,
                    state.trigger_streak
                );
                for &s in &rule.sectors {
                    let current = book.rate(p, s);
                    book.set_rate(p, s, rate.min(current), None, &cause);
                }
            }
        }
    }
}

/// Copies every government's schedule into the table in force this tick, with the
/// announcements firms can see.
pub fn publish_tariffs(
    clock: Res<Clock>,
    model: Res<Model>,
    mut table: ResMut<TariffTable>,
    governments: Query<(&Government, &TariffSchedule)>,
) {
    let now = clock.tick;
    let table = &mut *table;
    for (gov, schedule) in &governments {
        let i = gov.region as usize;
        for e in 0..model.n_regions {
            if e == i {
                continue;
            }
            for s in 0..model.n_sectors {
                let (c, k) = (table.cell(i, e, s), schedule.cell(e, s));
                table.rate[c] = schedule.rate[k];
                table.boycott[c] = schedule.boycott[k];
                table.grace[c] = schedule.grace[k];
            }
        }
    }
    table.announced.clear();
    if !model.policy_enabled {
        return;
    }
    // Announced changes of a cell build on each other in effective order: two announced
    // +10 pp steps announce +10 pp and then +20 pp.
    let mut pending: Vec<&crate::scenario::Event> = model
        .scenario
        .events
        .iter()
        .filter(|e| e.announce_tick.is_some_and(|a| a <= now) && e.effective_tick > now)
        .collect();
    pending.sort_by_key(|e| e.effective_tick);
    let mut announced_rate: Vec<((usize, usize, usize), f64)> = Vec::new();
    for event in pending {
        for &s in &event.sectors {
            let cell = (event.government, event.partner, s);
            let current = announced_rate
                .iter()
                .rev()
                .find(|(c, _)| *c == cell)
                .map(|(_, r)| *r)
                .unwrap_or_else(|| table.rate(event.government, event.partner, s));
            let new_rate = match event.kind {
                EventKind::SetTariff(v) => v,
                EventKind::AddTariff(v) => ((current + v).max(0.0) * 1e12).round() / 1e12,
                EventKind::Boycott(_) => continue,
            };
            announced_rate.push((cell, new_rate));
            table.announced.push(Announcement {
                importer: event.government,
                exporter: event.partner,
                sector: s,
                new_rate,
                effective_tick: event.effective_tick,
                grace_until: event.grace_until_tick,
            });
        }
    }
}
