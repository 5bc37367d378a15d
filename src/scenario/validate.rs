//! [`ScenarioConfig`] → [`Scenario`]: defaults, name resolution and every check, with all
//! problems of a file collected before reporting.

use super::config::*;
use super::locate::{Locator, position_of_offset};
use super::*;
use crate::calendar::{Calendar, Date};

/// Parses TOML text and checks it; every problem is reported, each with its position.
///
/// Each top-level key and each table of an array is deserialised on its own, so a wrong
/// type in one place does not hide the problems elsewhere.
pub(super) fn parse_and_validate(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let fail = |problems: Vec<Problem>| ScenarioError { origin: origin.to_string(), problems };
    let table: toml::Table = toml::from_str(text).map_err(|e: toml::de::Error| {
        fail(vec![Problem {
            path: String::new(),
            position: e.span().map(|s| position_of_offset(text, s.start)),
            message: e.message().trim().to_string(),
        }])
    })?;
    let mut check = Checker::default();
    let config = read_config(&mut check, table);
    let scenario = check.scenario(config, text);
    if check.problems.is_empty() {
        Ok(scenario.expect("a scenario without problems is complete"))
    } else {
        let locator = Locator::new(text);
        for p in &mut check.problems {
            if p.position.is_none() {
                let wrong_value = check.mistyped.contains(&p.path)
                    || p.message.contains(" is not accepted")
                    || p.message.starts_with("unknown region")
                    || p.message.starts_with("unknown sector");
                p.position = if wrong_value { locator.locate_value(&p.path) } else { locator.locate(&p.path) };
            }
        }
        // In file order; problems without a place in the file (missing keys) come last.
        check.problems.sort_by_key(|p| p.position.unwrap_or((usize::MAX, 0)));
        Err(fail(check.problems))
    }
}

/// Deserialises the file key by key, recording type errors and unknown keys as problems.
fn read_config(check: &mut Checker, table: toml::Table) -> ScenarioConfig {
    let mut c = ScenarioConfig::default();
    for (key, value) in table {
        let k = key.as_str();
        match k {
            "name" => c.name = check.piece(k, value),
            "description" => c.description = check.piece(k, value),
            "start" => c.start = check.piece(k, value),
            "end" => c.end = check.piece(k, value),
            "seed" => c.seed = check.piece(k, value),
            "regions" => c.regions = check.pieces(k, value),
            "sectors" => c.sectors = check.pieces(k, value),
            "recipes" => c.recipes = check.pieces(k, value),
            "capacity" => c.capacity = check.pieces(k, value),
            "shipping" => c.shipping = check.piece(k, value),
            "sourcing" => c.sourcing = check.piece(k, value),
            "behaviour" => c.behaviour = check.piece(k, value),
            "tariffs" => c.tariffs = check.pieces(k, value),
            "events" => c.events = check.pieces(k, value),
            "rules" => c.rules = check.pieces(k, value),
            _ => check.unknown_field(k),
        }
    }
    c
}

fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty() || child == ".") {
        (_, true) => parent.to_string(),
        (true, false) => child.to_string(),
        (false, false) if child.starts_with('[') => format!("{parent}{child}"),
        (false, false) => format!("{parent}.{child}"),
    }
}

/// `regions[2].name` style path from serde_ignored's path.
fn path_string(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path as P;
    match path {
        P::Root => String::new(),
        P::Seq { parent, index } => format!("{}[{index}]", path_string(parent)),
        P::Map { parent, key } => {
            let p = path_string(parent);
            if p.is_empty() { key.clone() } else { format!("{p}.{key}") }
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => path_string(parent),
    }
}

/// The highest tariff rate accepted: 100 = 10,000%. Beyond it, cent amounts stop being
/// meaningful; an embargo is a boycott with share 1.
const MAX_RATE: f64 = 100.0;
/// GDP bounds (annual, currency units): below, a household's weekly income rounds to
/// nothing in cents; above, single agents' cash and payments approach the range of
/// 64-bit cents.
const MIN_GDP_PER_HOUSEHOLD: f64 = 1000.0;
const MAX_GDP: f64 = 1e16;
/// A region's trade balance may be at most this share of its GDP either way.
const MAX_TRADE_BALANCE_SHARE: f64 = 0.5;

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    /// Paths whose value had the wrong type (already reported; not "missing" again).
    mistyped: Vec<String>,
    /// Whether start and end are valid, so dates can be checked against the horizon.
    calendar_known: bool,
}

/// Names resolved so far, for cross-references.
struct Names {
    regions: Vec<String>,
    sectors: Vec<String>,
}

impl Names {
    fn region(&self, check: &mut Checker, path: &str, name: &Option<String>) -> Option<usize> {
        let Some(name) = name else {
            check.problem(path, format!("missing; name one of the regions: {}", self.regions.join(", ")));
            return None;
        };
        let found = self.regions.iter().position(|r| r == name);
        if found.is_none() {
            check.problem(path, format!("unknown region '{name}'; known regions: {}", self.regions.join(", ")));
        }
        found
    }

    fn sector(&self, check: &mut Checker, path: &str, name: &Option<String>) -> Option<usize> {
        let Some(name) = name else {
            check.problem(path, format!("missing; name one of the sectors: {}", self.sectors.join(", ")));
            return None;
        };
        self.sector_named(check, path, name)
    }

    fn sector_named(&self, check: &mut Checker, path: &str, name: &str) -> Option<usize> {
        let found = self.sectors.iter().position(|s| s == name);
        if found.is_none() {
            check.problem(path, format!("unknown sector '{name}'; known sectors: {}", self.sectors.join(", ")));
        }
        found
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Checker {
    /// Deserialises one value at `path`; a wrong type or an unknown key becomes a problem.
    /// A table with a wrongly typed key is read again without that key, so its other keys
    /// (its name above all) still take part in the checks that follow.
    fn piece<T: serde::de::DeserializeOwned>(&mut self, path: &str, mut value: toml::Value) -> Option<T> {
        let mut reported_unknown = false;
        for _attempt in 0..64 {
            let mut unknown = Vec::new();
            let mut track = serde_path_to_error::Track::new();
            let de = serde_path_to_error::Deserializer::new(value.clone(), &mut track);
            let result = serde_ignored::deserialize(de, |p| unknown.push(path_string(&p)));
            if !reported_unknown {
                for u in unknown {
                    self.unknown_field(&join_path(path, &u));
                }
                reported_unknown = true;
            }
            let error = match result {
                Ok(v) => return Some(v),
                Err(e) => e,
            };
            let inner = track.path().to_string();
            let full = join_path(path, &inner);
            self.problems.push(Problem {
                path: full.clone(),
                position: None,
                message: error.message().trim().to_string(),
            });
            self.mistyped.push(full);
            // Drop the offending top-level key of this table and try again.
            let key = inner.split(['.', '[']).next().unwrap_or("").to_string();
            let removed = match &mut value {
                toml::Value::Table(t) if !key.is_empty() => t.remove(&key).is_some(),
                _ => false,
            };
            if !removed {
                return None;
            }
        }
        None
    }

    /// Deserialises an array of tables element by element.
    fn pieces<T: serde::de::DeserializeOwned>(&mut self, path: &str, value: toml::Value) -> Vec<T> {
        match value {
            toml::Value::Array(items) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| self.piece(&format!("{path}[{i}]"), item))
                .collect(),
            other => {
                self.problem(path, format!("expected an array of tables ([[{path}]]), found {}", other.type_str()));
                Vec::new()
            }
        }
    }

    fn unknown_field(&mut self, path: &str) {
        let (parent, key) = match path.rfind('.') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path),
        };
        let accepted = super::schema::accepted_fields(parent);
        self.problem(path, format!("unknown field '{key}'; accepted here: {}", accepted.join(", ")));
    }

    fn problem(&mut self, path: &str, message: impl Into<String>) {
        let message = message.into();
        if message.starts_with("missing") && self.mistyped.iter().any(|m| m == path) {
            return;
        }
        self.problems.push(Problem { path: path.to_string(), position: None, message });
    }

    /// A finite number in `[lo, hi]`, or `default` when absent.
    fn number(&mut self, path: &str, v: Option<f64>, default: f64, lo: f64, hi: f64) -> f64 {
        match v {
            None => default,
            Some(x) if x.is_finite() && x >= lo && x <= hi => x,
            Some(x) => {
                let range = match (lo, hi) {
                    (0.0, 1.0) => "a fraction from 0 to 1".to_string(),
                    (0.0, f64::INFINITY) => "a number ≥ 0".to_string(),
                    (lo, f64::INFINITY) => format!("a number ≥ {lo}"),
                    (lo, hi) => format!("a number from {lo} to {hi}"),
                };
                self.problem(path, format!("{x} is not accepted; expected {range}"));
                default
            }
        }
    }

    fn required_number(&mut self, path: &str, v: Option<f64>, lo: f64, hi: f64) -> f64 {
        if v.is_none() {
            self.problem(path, "missing; a number is required here");
            return lo.max(0.0);
        }
        self.number(path, v, lo, lo, hi)
    }

    /// A count in `[lo, hi]`.
    fn count(&mut self, path: &str, v: Option<i64>, default: u32, lo: i64, hi: i64) -> u32 {
        match v {
            None => default,
            Some(x) if x >= lo && x <= hi => x as u32,
            Some(x) => {
                self.problem(path, format!("{x} is not accepted; expected a whole number from {lo} to {hi}"));
                default
            }
        }
    }

    fn tick_of(&mut self, path: &str, cal: &Calendar, ticks: u32, date: Date) -> Option<u32> {
        if !self.calendar_known {
            return None;
        }
        let t = cal.tick_of(date);
        if t < 0 || t >= ticks as i64 {
            let last = cal.date_of(ticks.saturating_sub(1)).plus_days(6);
            self.problem(
                path,
                format!("{date} is outside the simulated horizon; accepted: dates from {} to {last}", cal.start),
            );
            None
        } else {
            Some(t as u32)
        }
    }

    /// Sector list: absent = every tradable sector; each name must exist and be tradable.
    fn sector_list(&mut self, names: &Names, sectors: &[Sector], path: &str, list: &Option<Vec<String>>) -> Vec<usize> {
        match list {
            None => (0..sectors.len()).filter(|&s| sectors[s].tradable).collect(),
            Some(list) => {
                if list.is_empty() {
                    self.problem(
                        path,
                        "empty; name at least one sector, or leave the key out for all tradable sectors",
                    );
                }
                let mut out = Vec::new();
                for (i, name) in list.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    if let Some(s) = names.sector_named(self, &p, name) {
                        if !sectors[s].tradable {
                            self.problem(&p, format!("sector '{name}' is not tradable; tariffs and trade rules apply to tradable sectors only"));
                        } else if !out.contains(&s) {
                            out.push(s);
                        }
                    }
                }
                out
            }
        }
    }

    fn scenario(&mut self, c: ScenarioConfig, text: &str) -> Option<Scenario> {
        // --- top level
        let name = match &c.name {
            None => {
                self.problem("name", "missing; give the scenario a name of letters, digits, '_' or '-'");
                String::new()
            }
            Some(n) if !valid_name(n) => {
                self.problem("name", format!("'{n}' is not accepted; use letters, digits, '_' or '-'"));
                String::new()
            }
            Some(n) => n.clone(),
        };
        let start = c.start;
        if start.is_none() {
            self.problem("start", "missing; give the first simulated day, e.g. start = 2024-01-01");
        }
        if c.end.is_none() {
            self.problem("end", "missing; give the last simulated day, e.g. end = 2026-12-31");
        }
        let seed = match c.seed {
            None => 1,
            Some(s) if s >= 0 => s as u64,
            Some(s) => {
                self.problem("seed", format!("{s} is not accepted; expected a whole number ≥ 0"));
                1
            }
        };
        let (calendar, ticks) = match (start, c.end) {
            (Some(start), Some(end)) => {
                let cal = Calendar { start };
                let t = cal.tick_of(end);
                self.calendar_known = (0..100_000).contains(&t);
                if t < 0 {
                    self.problem("end", format!("{end} is before start {start}; end must be on or after start"));
                    (cal, 1)
                } else if t >= 100_000 {
                    self.problem("end", format!("{end} is {t} weeks after start; at most 100000 weeks are accepted"));
                    (cal, 1)
                } else {
                    (cal, t as u32 + 1)
                }
            }
            _ => (Calendar { start: Date::from_ymd(2024, 1, 1).unwrap() }, 1),
        };

        // --- behaviour (needed for region defaults)
        let behaviour = self.behaviour(c.behaviour.clone().unwrap_or_default());
        let default_headroom = self.number(
            "behaviour.capacity_headroom",
            c.behaviour.as_ref().and_then(|b| b.capacity_headroom),
            1.25,
            0.0,
            100.0,
        );

        // --- names
        let mut names = Names { regions: Vec::new(), sectors: Vec::new() };
        if c.regions.is_empty() {
            self.problem("regions", "no regions; add at least one [[regions]] table");
        }
        for (i, r) in c.regions.iter().enumerate() {
            let n = r.name.clone().unwrap_or_default();
            if !valid_name(&n) {
                self.problem(
                    &format!("regions[{i}].name"),
                    format!("'{n}' is not accepted; use letters, digits, '_' or '-'"),
                );
            } else if names.regions.contains(&n) {
                self.problem(&format!("regions[{i}].name"), format!("region '{n}' is defined twice"));
            }
            names.regions.push(n);
        }
        if c.sectors.is_empty() {
            self.problem("sectors", "no sectors; add at least one [[sectors]] table");
        }
        for (i, s) in c.sectors.iter().enumerate() {
            let n = s.name.clone().unwrap_or_default();
            if !valid_name(&n) {
                self.problem(
                    &format!("sectors[{i}].name"),
                    format!("'{n}' is not accepted; use letters, digits, '_' or '-'"),
                );
            } else if names.sectors.contains(&n) {
                self.problem(&format!("sectors[{i}].name"), format!("sector '{n}' is defined twice"));
            }
            names.sectors.push(n);
        }
        let n_r = names.regions.len();
        let n_s = names.sectors.len();

        // --- sectors and default recipes
        let mut sectors = Vec::new();
        let mut default_recipes = Vec::new();
        for (i, s) in c.sectors.iter().enumerate() {
            let p = format!("sectors[{i}]");
            let budget_share = self.number(&format!("{p}.budget_share"), s.budget_share, 0.0, 0.0, 1.0);
            let capacity_headroom =
                self.number(&format!("{p}.capacity_headroom"), s.capacity_headroom, default_headroom, 0.0, 100.0);
            sectors.push(Sector {
                name: names.sectors[i].clone(),
                tradable: s.tradable.unwrap_or(true),
                budget_share,
                capacity_headroom,
            });
            let markup = self.number(&format!("{p}.markup"), s.markup, 0.2, 0.0, 10.0);
            let inputs = self.inputs(&names, &format!("{p}.inputs"), &s.inputs);
            let labour = s.labour.map(|l| self.number(&format!("{p}.labour"), Some(l), 0.0, 0.0, 10.0));
            let recipe = Recipe { inputs, labour, markup };
            self.recipe_affordable(&format!("{p}.inputs"), &recipe);
            default_recipes.push(recipe);
        }
        let consumer_total: f64 = sectors.iter().map(|s| s.budget_share).sum();
        if n_s > 0 && (consumer_total - 1.0).abs() > 1e-6 {
            let listed: Vec<String> = sectors
                .iter()
                .filter(|s| s.budget_share > 0.0)
                .map(|s| format!("{}={}", s.name, s.budget_share))
                .collect();
            self.problem(
                "sectors",
                format!(
                    "budget_share over all sectors sums to {consumer_total}, not 1 ({}); shares must sum to 1",
                    listed.join(", ")
                ),
            );
        }

        // --- regions
        let mut regions = Vec::new();
        // A balance refused on its own is not summed: the sum's advice would be wrong.
        let mut balance_rejected = false;
        for (i, r) in c.regions.iter().enumerate() {
            let p = format!("regions[{i}]");
            let problems_before = self.problems.len();
            let gdp = match r.gdp {
                None => {
                    self.problem(&format!("{p}.gdp"), "missing; give annual GDP in currency units (> 0)");
                    1.0
                }
                Some(g) => self.number(&format!("{p}.gdp"), Some(g), 1.0, 1.0, MAX_GDP),
            };
            let gdp_valid = r.gdp.is_some() && self.problems.len() == problems_before;
            let households = self.count(&format!("{p}.households"), r.households, 1000, 0, 50_000_000);
            let producers_per_sector =
                self.count(&format!("{p}.producers_per_sector"), r.producers_per_sector, 10, 0, 5_000_000);
            let retailers_per_sector =
                self.count(&format!("{p}.retailers_per_sector"), r.retailers_per_sector, 5, 0, 5_000_000);
            let productivity = self.number(&format!("{p}.productivity"), r.productivity, 1.0, 1e-3, 1e3);
            if gdp_valid && households > 0 && gdp < MIN_GDP_PER_HOUSEHOLD * households as f64 {
                self.problem(
                    &format!("{p}.gdp"),
                    format!("{gdp} is too small for {households} households; give at least {} a year per household (GDP is in currency units, e.g. 29.2e12)", MIN_GDP_PER_HOUSEHOLD),
                );
            }
            let exporter_absorption = self.number(
                &format!("{p}.exporter_absorption"),
                r.exporter_absorption,
                behaviour.exporter_absorption,
                0.0,
                1.0,
            );
            let share = self.number(&format!("{p}.recycling_share"), r.recycling_share, 1.0, 0.0, 1.0);
            let recycling = match r.recycling.as_deref() {
                None | Some("lump_sum") => Recycling::LumpSum { share },
                Some("hold") => Recycling::Hold,
                Some("sector_aid") => match names.sector(self, &format!("{p}.aid_sector"), &r.aid_sector) {
                    Some(sector) => Recycling::SectorAid { sector, share },
                    None => Recycling::Hold,
                },
                Some(other) => {
                    self.problem(
                        &format!("{p}.recycling"),
                        format!("'{other}' is not accepted; expected \"hold\", \"lump_sum\" or \"sector_aid\""),
                    );
                    Recycling::Hold
                }
            };
            if r.aid_sector.is_some() && !matches!(recycling, Recycling::SectorAid { .. }) {
                self.problem(
                    &format!("{p}.aid_sector"),
                    "only used with recycling = \"sector_aid\"; remove it or set recycling",
                );
            }
            let trade_balance = match r.trade_balance {
                None => 0.0,
                Some(_) if !gdp_valid => {
                    balance_rejected = true;
                    0.0
                }
                Some(tb) if !(tb.is_finite() && tb.abs() <= MAX_TRADE_BALANCE_SHARE * gdp) => {
                    balance_rejected = true;
                    self.problem(
                        &format!("{p}.trade_balance"),
                        format!("{tb} is not accepted; expected an annual balance (exports − imports) from {} to {} ({MAX_TRADE_BALANCE_SHARE} of this region's gdp)", -MAX_TRADE_BALANCE_SHARE * gdp, MAX_TRADE_BALANCE_SHARE * gdp),
                    );
                    0.0
                }
                Some(tb) if tb != 0.0 && households == 0 => {
                    balance_rejected = true;
                    self.problem(
                        &format!("{p}.trade_balance"),
                        "a region without households cannot lend or borrow (its households do); remove it or give the region households",
                    );
                    0.0
                }
                Some(tb) => tb,
            };
            regions.push(Region {
                name: names.regions[i].clone(),
                gdp,
                households,
                producers_per_sector,
                retailers_per_sector,
                productivity,
                exporter_absorption,
                recycling,
                trade_balance,
            });
        }
        // The world's exports are its imports: balances must sum to zero.
        let balance_sum: f64 = regions.iter().map(|r| r.trade_balance).sum();
        let balance_scale: f64 = regions.iter().map(|r| r.trade_balance.abs()).sum();
        if !balance_rejected && balance_sum.abs() > 1e-6 * balance_scale + 1.0 {
            let listed: Vec<String> = regions
                .iter()
                .filter(|r| r.trade_balance != 0.0)
                .map(|r| format!("{}={}", r.name, r.trade_balance))
                .collect();
            // Advice: the last region that could take the closing balance within its own
            // limits (households, ±0.5 × its gdp).
            let closing = regions.iter().rev().find_map(|r| {
                let wanted = r.trade_balance - balance_sum;
                (r.households > 0 && wanted.abs() <= MAX_TRADE_BALANCE_SHARE * r.gdp).then(|| (r.name.clone(), wanted))
            });
            let advice = match closing {
                Some((name, wanted)) => format!("give {name} {wanted} to close the world"),
                None => "no single region can take the difference within its limits (±0.5 × its gdp, and households): change several balances".into(),
            };
            self.problem(
                "regions",
                format!(
                    "trade_balance over all regions sums to {balance_sum}, not 0 ({}); one region's surplus is another's deficit: {advice}",
                    listed.join(", "),
                ),
            );
        }

        // --- recipes by region
        let mut recipes: Vec<Recipe> = (0..n_r * n_s)
            .map(|k| {
                default_recipes.get(k % n_s.max(1)).cloned().unwrap_or(Recipe {
                    inputs: vec![],
                    labour: None,
                    markup: 0.2,
                })
            })
            .collect();
        for (i, rc) in c.recipes.iter().enumerate() {
            let p = format!("recipes[{i}]");
            let region = names.region(self, &format!("{p}.region"), &rc.region);
            let sector = names.sector(self, &format!("{p}.sector"), &rc.sector);
            let (Some(r), Some(s)) = (region, sector) else { continue };
            let recipe = &mut recipes[r * n_s + s];
            if let Some(inputs) = &rc.inputs {
                recipe.inputs = self.inputs(&names, &format!("{p}.inputs"), inputs);
            }
            if let Some(l) = rc.labour {
                recipe.labour = Some(self.number(&format!("{p}.labour"), Some(l), 0.0, 0.0, 10.0));
            }
            if let Some(m) = rc.markup {
                recipe.markup = self.number(&format!("{p}.markup"), Some(m), 0.2, 0.0, 10.0);
            }
            let recipe = recipe.clone();
            self.recipe_affordable(&format!("{p}.inputs"), &recipe);
        }

        // --- capacity multipliers
        let mut capacity_multiplier = vec![1.0; n_r * n_s];
        for (i, cc) in c.capacity.iter().enumerate() {
            let p = format!("capacity[{i}]");
            let region = names.region(self, &format!("{p}.region"), &cc.region);
            let sector = names.sector(self, &format!("{p}.sector"), &cc.sector);
            let m = self.required_number(&format!("{p}.multiplier"), cc.multiplier, 0.0, 1e6);
            if let (Some(r), Some(s)) = (region, sector) {
                capacity_multiplier[r * n_s + s] = m;
            }
        }

        // --- shipping
        let ship = c.shipping.clone().unwrap_or_default();
        let domestic_transport = self.number("shipping.domestic_transport", ship.domestic_transport, 0.0, 0.0, 10.0);
        let default_lead = self.count("shipping.default_lead_weeks", ship.default_lead_weeks, 4, 1, 520);
        let default_transport = self.number("shipping.default_transport", ship.default_transport, 0.05, 0.0, 10.0);
        let mut lead = vec![default_lead; n_r * n_r];
        let mut transport = vec![default_transport; n_r * n_r];
        for r in 0..n_r {
            lead[r * n_r + r] = 1;
            transport[r * n_r + r] = domestic_transport;
        }
        for (i, route) in ship.routes.iter().enumerate() {
            let p = format!("shipping.routes[{i}]");
            let from = names.region(self, &format!("{p}.from"), &route.from);
            let to = names.region(self, &format!("{p}.to"), &route.to);
            let l = self.count(&format!("{p}.lead_weeks"), route.lead_weeks, default_lead, 1, 520);
            let t = self.number(&format!("{p}.transport"), route.transport, default_transport, 0.0, 10.0);
            let (Some(from), Some(to)) = (from, to) else { continue };
            if from == to {
                self.problem(&format!("{p}.to"), "a route needs two different regions; domestic delivery always takes one week (set shipping.domestic_transport for its cost)");
                continue;
            }
            lead[from * n_r + to] = l;
            transport[from * n_r + to] = t;
            if route.both_ways.unwrap_or(true) {
                lead[to * n_r + from] = l;
                transport[to * n_r + from] = t;
            }
        }

        // --- sourcing
        let src = c.sourcing.clone().unwrap_or_default();
        let home_share = self.number("sourcing.home_share", src.home_share, 0.8, 0.0, 1.0);
        let mut sourcing = vec![0.0; n_r * n_s * n_r];
        let gdp_total: f64 = regions.iter().map(|r| r.gdp).sum();
        for r in 0..n_r {
            for s in 0..n_s {
                let row = &mut sourcing[(r * n_s + s) * n_r..(r * n_s + s + 1) * n_r];
                if !sectors[s].tradable || n_r == 1 {
                    row[r] = 1.0;
                    continue;
                }
                let others = gdp_total - regions[r].gdp;
                row[r] = home_share;
                for o in 0..n_r {
                    if o != r {
                        row[o] = (1.0 - home_share) * regions[o].gdp / others;
                    }
                }
            }
        }
        for (i, sh) in src.shares.iter().enumerate() {
            let p = format!("sourcing.shares[{i}]");
            let importer = names.region(self, &format!("{p}.importer"), &sh.importer);
            let sector = names.sector(self, &format!("{p}.sector"), &sh.sector);
            let mut row = vec![0.0; n_r];
            let mut total = 0.0;
            for (exp, v) in &sh.shares {
                let q = format!("{p}.shares.{exp}");
                let Some(o) = names.region(self, &q, &Some(exp.clone())) else { continue };
                let v = self.number(&q, Some(*v), 0.0, 0.0, 1.0);
                row[o] = v;
                total += v;
            }
            if (total - 1.0).abs() > 1e-6 {
                self.problem(
                    &format!("{p}.shares"),
                    format!("shares sum to {total}, not 1; the shares of all exporters must sum to 1"),
                );
                continue;
            }
            let (Some(r), Some(s)) = (importer, sector) else { continue };
            if !sectors[s].tradable && (row[r] - 1.0).abs() > 1e-9 {
                self.problem(
                    &format!("{p}.shares"),
                    format!(
                        "sector '{}' is not tradable: all of it must come from the importer itself ({} = 1)",
                        sectors[s].name, regions[r].name
                    ),
                );
                continue;
            }
            sourcing[(r * n_s + s) * n_r..(r * n_s + s + 1) * n_r].copy_from_slice(&row);
        }

        // --- initial tariffs
        let mut initial_tariffs = vec![0.0; n_r * n_r * n_s];
        for (i, t) in c.tariffs.iter().enumerate() {
            let p = format!("tariffs[{i}]");
            let importer = names.region(self, &format!("{p}.importer"), &t.importer);
            let exporter = names.region(self, &format!("{p}.exporter"), &t.exporter);
            let list = self.sector_list(&names, &sectors, &format!("{p}.sectors"), &t.sectors);
            let rate = self.required_number(&format!("{p}.rate"), t.rate, 0.0, MAX_RATE);
            let (Some(im), Some(ex)) = (importer, exporter) else { continue };
            if im == ex {
                self.problem(
                    &format!("{p}.exporter"),
                    "importer and exporter are the same region; tariffs apply between regions",
                );
                continue;
            }
            for s in list {
                initial_tariffs[(im * n_r + ex) * n_s + s] = rate;
            }
        }

        // --- events
        let mut events = Vec::new();
        for (i, e) in c.events.iter().enumerate() {
            let p = format!("events[{i}]");
            let government = names.region(self, &format!("{p}.government"), &e.government);
            let partner = names.region(self, &format!("{p}.partner"), &e.partner);
            if let (Some(g), Some(pa)) = (government, partner)
                && g == pa
            {
                self.problem(
                    &format!("{p}.partner"),
                    "government and partner are the same region; a policy applies to another region's goods",
                );
            }
            let list = self.sector_list(&names, &sectors, &format!("{p}.sectors"), &e.sectors);
            let kind_name = e.kind.as_deref().unwrap_or("tariff");
            let foreign_keys: &[(&str, bool)] = match kind_name {
                "tariff" => &[("share", e.share.is_some())],
                "boycott" => {
                    &[("set", e.set.is_some()), ("add", e.add.is_some()), ("grace_until", e.grace_until.is_some())]
                }
                _ => &[],
            };
            for (key, present) in foreign_keys {
                if *present {
                    self.problem(
                        &format!("{p}.{key}"),
                        format!("not used by a {kind_name} event; remove it or change `kind`"),
                    );
                }
            }
            let kind = match kind_name {
                "tariff" => match (e.set, e.add) {
                    (Some(v), None) => {
                        Some(EventKind::SetTariff(self.number(&format!("{p}.set"), Some(v), 0.0, 0.0, MAX_RATE)))
                    }
                    (None, Some(v)) => {
                        Some(EventKind::AddTariff(self.number(&format!("{p}.add"), Some(v), 0.0, -MAX_RATE, MAX_RATE)))
                    }
                    _ => {
                        self.problem(
                            &p,
                            "a tariff event needs exactly one of `set` (new rate) and `add` (change in rate)",
                        );
                        None
                    }
                },
                "boycott" => match e.share {
                    Some(v) => Some(EventKind::Boycott(self.number(&format!("{p}.share"), Some(v), 0.0, 0.0, 1.0))),
                    None => {
                        self.problem(
                            &format!("{p}.share"),
                            "missing; a boycott needs a share from 0 (lifted) to 1 (stop buying)",
                        );
                        None
                    }
                },
                other => {
                    self.problem(
                        &format!("{p}.kind"),
                        format!("'{other}' is not accepted; expected \"tariff\" or \"boycott\""),
                    );
                    None
                }
            };
            let effective = match e.effective {
                Some(d) => self.tick_of(&format!("{p}.effective"), &calendar, ticks, d),
                None => {
                    self.problem(&format!("{p}.effective"), "missing; give the date the change takes effect");
                    None
                }
            };
            let announce = e.announce.and_then(|d| self.tick_of(&format!("{p}.announce"), &calendar, ticks, d));
            if let (Some(a), Some(eff)) = (announce, effective)
                && a > eff
            {
                self.problem(
                    &format!("{p}.announce"),
                    "announced after it takes effect; `announce` must be on or before `effective`",
                );
            }
            let grace_until = e.grace_until.map(|d| {
                let t = calendar.tick_of(d);
                if let Some(eff) = effective
                    && t < eff as i64
                {
                    self.problem(
                        &format!("{p}.grace_until"),
                        "before the effective date; grace_until must be on or after `effective`",
                    );
                }
                t.max(0) as u32
            });
            if let (Some(government), Some(partner), Some(kind), Some(effective_tick)) =
                (government, partner, kind, effective)
            {
                events.push(Event {
                    name: e.name.clone().unwrap_or_else(|| format!("event {i}")),
                    kind,
                    government,
                    partner,
                    sectors: list,
                    announce_tick: announce,
                    effective_tick,
                    grace_until_tick: grace_until,
                    source: e.source.clone().unwrap_or_default(),
                });
            }
        }

        // --- rules
        let first_event = events.iter().map(|e| e.announce_tick.unwrap_or(e.effective_tick)).min();
        let mut rules = Vec::new();
        let mut rule_lines = Vec::new();
        for (i, r) in c.rules.iter().enumerate() {
            let p = format!("rules[{i}]");
            let government = names.region(self, &format!("{p}.government"), &r.government);
            let partner = names.region(self, &format!("{p}.partner"), &r.partner);
            if let (Some(g), Some(pa)) = (government, partner)
                && g == pa
            {
                self.problem(&format!("{p}.partner"), "government and partner are the same region");
            }
            let list = self.sector_list(&names, &sectors, &format!("{p}.sectors"), &r.sectors);
            let active_from =
                r.active_from.and_then(|d| self.tick_of(&format!("{p}.active_from"), &calendar, ticks, d)).unwrap_or(0);
            let active_until = r
                .active_until
                .and_then(|d| self.tick_of(&format!("{p}.active_until"), &calendar, ticks, d))
                .unwrap_or(ticks);
            let window = |c: &mut Checker| c.count(&format!("{p}.window_weeks"), r.window_weeks, 4, 1, 520);
            let keys: [(&str, bool, &[&str]); 9] = [
                ("lag_weeks", r.lag_weeks.is_some(), &["tit_for_tat"]),
                ("match", r.match_share.is_some(), &["tit_for_tat"]),
                ("cap", r.cap.is_some(), &["tit_for_tat"]),
                ("threshold", r.threshold.is_some(), &["shortage_exemption"]),
                ("exempt_rate", r.exempt_rate.is_some(), &["shortage_exemption"]),
                ("window_weeks", r.window_weeks.is_some(), &["shortage_exemption", "de_escalation"]),
                ("trade_drop", r.trade_drop.is_some(), &["de_escalation"]),
                ("gdp_loss", r.gdp_loss.is_some(), &["de_escalation"]),
                ("baseline_weeks", r.baseline_weeks.is_some(), &["de_escalation"]),
            ];
            if let Some(kind) =
                r.kind.as_deref().filter(|k| ["tit_for_tat", "shortage_exemption", "de_escalation"].contains(k))
            {
                for (key, present, kinds) in keys {
                    if present && !kinds.contains(&kind) {
                        self.problem(
                            &format!("{p}.{key}"),
                            format!("not used by a {kind} rule; it belongs to {} rules", kinds.join(" and ")),
                        );
                    }
                }
                if r.rate.is_some() && kind != "de_escalation" {
                    self.problem(
                        &format!("{p}.rate"),
                        format!("not used by a {kind} rule; it belongs to de_escalation rules"),
                    );
                }
            }
            let kind = match r.kind.as_deref() {
                Some("tit_for_tat") => Some(RuleKind::TitForTat {
                    lag: self.count(&format!("{p}.lag_weeks"), r.lag_weeks, 1, 1, 520),
                    match_share: self.number(&format!("{p}.match"), r.match_share, 1.0, 0.0, 100.0),
                    cap: self.number(&format!("{p}.cap"), r.cap, 1.25, 0.0, MAX_RATE),
                }),
                Some("shortage_exemption") => Some(RuleKind::ShortageExemption {
                    threshold: self.required_number(&format!("{p}.threshold"), r.threshold, 0.0, 1.0),
                    window: window(self),
                    exempt_rate: self.number(&format!("{p}.exempt_rate"), r.exempt_rate, 0.0, 0.0, MAX_RATE),
                }),
                Some("de_escalation") => {
                    let trade_drop =
                        r.trade_drop.map(|v| self.number(&format!("{p}.trade_drop"), Some(v), 0.5, 0.0, 1.0));
                    let gdp_loss = r.gdp_loss.map(|v| self.number(&format!("{p}.gdp_loss"), Some(v), 0.02, 0.0, 1.0));
                    if trade_drop.is_none() && gdp_loss.is_none() {
                        self.problem(&p, "a de_escalation rule needs a trigger: `trade_drop` (fraction of bilateral trade lost) and/or `gdp_loss` (fraction of GDP lost)");
                    }
                    let baseline = self.count(&format!("{p}.baseline_weeks"), r.baseline_weeks, 8, 1, 520);
                    Some(RuleKind::DeEscalation {
                        trade_drop,
                        gdp_loss,
                        window: window(self),
                        baseline,
                        rate: self.required_number(&format!("{p}.rate"), r.rate, 0.0, MAX_RATE),
                    })
                }
                other => {
                    self.problem(
                        &format!("{p}.kind"),
                        format!(
                            "{} is not accepted; expected \"tit_for_tat\", \"shortage_exemption\" or \"de_escalation\"",
                            other.map(|o| format!("'{o}'")).unwrap_or_else(|| "missing".into())
                        ),
                    );
                    None
                }
            };
            if let (Some(government), Some(partner), Some(kind)) = (government, partner, kind) {
                rule_lines.push(i);
                rules.push(Rule {
                    name: r.name.clone().unwrap_or_else(|| format!("rule {i}")),
                    government,
                    partner,
                    sectors: list,
                    active_from,
                    active_until,
                    kind,
                });
            }
        }

        // De-escalation baselines are the weeks before the first policy tick (as
        // `Scenario::first_policy_tick` defines it): they must exist.
        let pre_war = first_event.or_else(|| rules.iter().map(|r| r.active_from).min()).unwrap_or(0);
        for (rule, &i) in rules.iter().zip(&rule_lines) {
            if let RuleKind::DeEscalation { baseline, .. } = rule.kind
                && pre_war < baseline
            {
                let date = calendar.date_of(pre_war);
                self.problem(
                    &format!("rules[{i}].baseline_weeks"),
                    format!("the pre-war baseline needs {baseline} weeks before the first policy event ({date}, week {pre_war}); start the scenario earlier or shorten baseline_weeks"),
                );
            }
        }
        if !self.problems.is_empty() {
            return None;
        }
        Some(Scenario {
            name,
            description: c.description.clone().unwrap_or_default(),
            calendar,
            ticks,
            seed,
            regions,
            sectors,
            recipes,
            capacity_multiplier,
            lead,
            transport,
            sourcing,
            sourcing_balance: src.balance.unwrap_or(true),
            behaviour,
            initial_tariffs,
            events,
            rules,
            content_hash: content_hash(text),
        })
    }

    fn inputs(
        &mut self,
        names: &Names,
        path: &str,
        inputs: &std::collections::BTreeMap<String, f64>,
    ) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        for (name, v) in inputs {
            let p = format!("{path}.{name}");
            let Some(s) = names.sector_named(self, &p, name) else { continue };
            let v = self.number(&p, Some(*v), 0.0, 0.0, 100.0);
            if v > 0.0 {
                out.push((s, v));
            }
        }
        out
    }

    fn recipe_affordable(&mut self, path: &str, recipe: &Recipe) {
        let inputs: f64 = recipe.inputs.iter().map(|(_, a)| a).sum();
        if recipe.labour.is_none() && inputs >= 0.9 / (1.0 + recipe.markup) {
            self.problem(path, format!(
                "inputs sum to {inputs:.3} units per unit, which leaves no room for labour at base prices (price 1 = (1 + markup {}) × cost); keep the sum below {:.3} or give `labour` explicitly",
                recipe.markup, 0.9 / (1.0 + recipe.markup)
            ));
        }
    }

    fn behaviour(&mut self, b: BehaviourConfig) -> Behaviour {
        let p = |k: &str| format!("behaviour.{k}");
        Behaviour {
            target_employment: self.number(&p("target_employment"), b.target_employment, 0.95, 0.01, 1.0),
            consume_income: self.number(&p("consume_income"), b.consume_income, 0.9, 0.0, 1.0),
            consume_wealth: self.number(&p("consume_wealth"), b.consume_wealth, 0.05, 0.001, 1.0),
            income_smoothing: self.number(&p("income_smoothing"), b.income_smoothing, 0.3, 0.0, 1.0),
            sector_price_elasticity: self.number(
                &p("sector_price_elasticity"),
                b.sector_price_elasticity,
                0.5,
                0.0,
                50.0,
            ),
            retailer_choice_elasticity: self.number(
                &p("retailer_choice_elasticity"),
                b.retailer_choice_elasticity,
                4.0,
                0.0,
                50.0,
            ),
            known_retailers: self.count(
                &p("known_retailers"),
                b.known_retailers,
                3,
                1,
                super::MAX_KNOWN_RETAILERS as i64,
            ),
            retail_markup: self.number(&p("retail_markup"), b.retail_markup, 0.3, 0.0, 10.0),
            retail_labour_share: self.number(&p("retail_labour_share"), b.retail_labour_share, 0.4, 0.0, 0.95),
            retail_reprice_prob: self.number(&p("retail_reprice_prob"), b.retail_reprice_prob, 0.15, 0.0, 1.0),
            retail_reprice_down_prob: self.number(
                &p("retail_reprice_down_prob"),
                b.retail_reprice_down_prob,
                0.03,
                0.0,
                1.0,
            ),
            retail_cover_weeks: self.number(&p("retail_cover_weeks"), b.retail_cover_weeks, 6.0, 0.0, 104.0),
            exporter_absorption: self.number(&p("exporter_absorption"), b.exporter_absorption, 0.05, 0.0, 1.0),
            producer_price_adjust: self.number(&p("producer_price_adjust"), b.producer_price_adjust, 0.3, 0.0, 1.0),
            scarcity_pricing: self.number(&p("scarcity_pricing"), b.scarcity_pricing, 0.1, 0.0, 10.0),
            output_cover_weeks: self.number(&p("output_cover_weeks"), b.output_cover_weeks, 2.0, 0.0, 104.0),
            input_cover_weeks: self.number(&p("input_cover_weeks"), b.input_cover_weeks, 4.0, 0.0, 104.0),
            forecast_smoothing: self.number(&p("forecast_smoothing"), b.forecast_smoothing, 0.2, 0.0, 1.0),
            inventory_adjust: self.number(&p("inventory_adjust"), b.inventory_adjust, 0.25, 0.0, 1.0),
            suppliers_per_input: self.count(&p("suppliers_per_input"), b.suppliers_per_input, 3, 1, 32),
            source_elasticity: self.number(&p("source_elasticity"), b.source_elasticity, 4.0, 0.0, 50.0),
            search_prob: self.number(&p("search_prob"), b.search_prob, 0.05, 0.0, 1.0),
            switch_threshold: self.number(&p("switch_threshold"), b.switch_threshold, 0.15, 0.0, 10.0),
            frontload_weeks: self.number(&p("frontload_weeks"), b.frontload_weeks, 4.0, 0.0, 52.0),
            frontload_saturation: self.number(&p("frontload_saturation"), b.frontload_saturation, 0.25, 1e-6, 1e6),
            hiring_rate: self.number(&p("hiring_rate"), b.hiring_rate, 0.25, 0.0, 1.0),
            firing_rate: self.number(&p("firing_rate"), b.firing_rate, 0.1, 0.0, 1.0),
            job_match_efficiency: self.number(&p("job_match_efficiency"), b.job_match_efficiency, 0.5, 0.0, 1.0),
            dividend_rate: self.number(&p("dividend_rate"), b.dividend_rate, 0.5, 0.0, 1.0),
            cash_buffer_weeks: self.number(&p("cash_buffer_weeks"), b.cash_buffer_weeks, 4.0, 0.0, 520.0),
            wage_indexation: self.number(&p("wage_indexation"), b.wage_indexation, 0.0, 0.0, 1.0),
            capacity_adjust: self.number(&p("capacity_adjust"), b.capacity_adjust, 0.02, 0.0, 1.0),
            source_adjust: self.number(&p("source_adjust"), b.source_adjust, 0.05, 0.0, 1.0),
            wage_flexibility: self.number(&p("wage_flexibility"), b.wage_flexibility, 0.02, 0.0, 10.0),
        }
    }
}
