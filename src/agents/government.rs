//! Governments: one per region. Each imposes a tariff schedule on other regions' goods,
//! runs the policy rules the scenario gives it, holds tariff revenue and recycles it.

use bevy_ecs::prelude::*;

/// One tariff cell's recent change, for in-transit grace.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Grace {
    pub previous_rate: f64,
    pub changed_at: u32,
    /// Shipments that departed before `changed_at` and arrive by this tick pay `previous_rate`.
    pub until: Option<u32>,
}

#[derive(Component, Clone, Copy, Debug)]
pub struct Government {
    pub region: u16,
}

/// The rates this government imposes, `[exporter][sector]`, with boycott shares and grace.
#[derive(Component, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TariffSchedule {
    pub n_sectors: usize,
    pub rate: Vec<f64>,
    pub boycott: Vec<f64>,
    pub grace: Vec<Grace>,
}

impl TariffSchedule {
    #[inline]
    pub fn cell(&self, exporter: usize, sector: usize) -> usize {
        exporter * self.n_sectors + sector
    }
}

/// One logged change of policy (a row of policy.csv).
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyChange {
    pub tick: u32,
    pub government: usize,
    pub partner: usize,
    pub sector: usize,
    /// "tariff" or "boycott".
    pub instrument: &'static str,
    pub old: f64,
    pub new: f64,
    pub cause: String,
}

/// A tit-for-tat answer waiting for its lag.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingAnswer {
    pub due: u32,
    pub rule: usize,
    pub increase: f64,
}

/// The running state of one of the government's rules.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RuleState {
    /// Tit-for-tat: partner's mean rate on our exports last seen.
    pub last_seen: Option<f64>,
    /// Shortage exemption: consecutive ticks above threshold, by sector; fired sectors.
    pub streak: Vec<u32>,
    pub fired: Vec<bool>,
    /// De-escalation: baseline sums and count, trigger streak, whether it fired.
    pub baseline_trade: f64,
    pub baseline_gdp: f64,
    pub baseline_ticks: u32,
    pub trigger_streak: u32,
    pub done: bool,
}

/// Rules (scenario indices), their state, pending answers and this tick's log.
#[derive(Component, Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PolicyState {
    pub rules: Vec<usize>,
    pub state: Vec<RuleState>,
    pub pending: Vec<PendingAnswer>,
    /// This tick's changes, cleared when the next tick's policy runs (not in a checkpoint).
    #[serde(skip)]
    pub log: Vec<PolicyChange>,
}
