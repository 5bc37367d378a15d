//! Scenario vs counterfactual (MODEL.md §7): effects at horizons of 13, 26 and 52 weeks
//! after the first policy event and at the end, each value averaged over the four weeks
//! ending at the horizon, plus border and retail pass-through of the tariff changes.
//!
//! Only the windows' values are kept, so memory does not grow with the run's length.

use crate::metrics::TickReport;
use crate::output::{fmt_f64, fmt_opt};
use crate::scenario::Scenario;
use std::collections::BTreeMap;

/// Weeks averaged at each horizon.
pub const WINDOW: u32 = 4;
/// Weeks after the first policy event at which effects are reported (plus the end).
pub const HORIZON_WEEKS: [u32; 3] = [13, 26, 52];

#[derive(Debug, Clone, PartialEq)]
pub struct Horizon {
    pub label: String,
    pub tick: u32,
}

/// The horizons of a run of `ticks` ticks.
pub fn horizons(scenario: &Scenario, ticks: u32) -> Vec<Horizon> {
    let first = scenario.first_policy_tick().unwrap_or(0);
    let mut out: Vec<Horizon> = HORIZON_WEEKS
        .iter()
        .filter(|&&w| first + w < ticks)
        .map(|&w| Horizon { label: format!("{w}w"), tick: first + w })
        .collect();
    if ticks > 0 {
        out.push(Horizon { label: "end".into(), tick: ticks - 1 });
    }
    out
}

/// A series identified by metric and place. `NONE` marks "not applicable".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    horizon: usize,
    metric: &'static str,
    region: usize,
    partner: usize,
    sector: usize,
}

const NA: usize = usize::MAX;

#[derive(Debug, Clone, Copy, Default)]
struct Mean {
    sum: f64,
    n: u32,
}

impl Mean {
    fn value(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// One row of effects.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectRow {
    pub metric: String,
    pub region: Option<usize>,
    pub partner: Option<usize>,
    pub sector: Option<usize>,
    pub horizon: String,
    pub horizon_tick: u32,
    pub scenario: f64,
    pub counterfactual: f64,
    pub change: f64,
    pub pct_change: Option<f64>,
}

pub const HEADER: &[&str] = &[
    "metric",
    "region",
    "partner",
    "sector",
    "horizon",
    "horizon_tick",
    "horizon_date",
    "scenario",
    "counterfactual",
    "change",
    "pct_change",
];

/// Every metric [`Effects::record`] keeps (a checkpoint names them; restoring one maps the
/// names back).
const METRICS: &[&str] = &[
    "gdp",
    "real_gdp",
    "cpi",
    "import_price_index",
    "employment",
    "unemployment_rate",
    "consumption",
    "shortage_rate",
    "tariff_revenue",
    "imports",
    "exports",
    "import_value",
    "import_quantity",
    "tariff_rate",
    "fob_price",
    "border_price",
    "landed_price",
    "output",
    "producer_price",
    "retail_price",
    "retail_price_domestic",
    "retail_price_imported",
    "inventory",
    "sector_shortage_rate",
];

/// The window sums of [`Effects`] as a checkpoint holds them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedEffects {
    horizons: Vec<u32>,
    sums: Vec<SavedMean>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SavedMean {
    run: u8,
    horizon: u32,
    metric: String,
    /// Region, partner, sector (`u64::MAX`: not applicable).
    place: [u64; 3],
    sum: f64,
    n: u32,
}

/// Collects window averages of both runs.
#[derive(Debug)]
pub struct Effects {
    horizons: Vec<Horizon>,
    runs: [BTreeMap<Key, Mean>; 2],
}

/// Which run a report belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Run {
    Scenario = 0,
    Counterfactual = 1,
}

impl Run {
    /// `scenario` or `counterfactual`: the run's directory and name in messages.
    pub fn label(self) -> &'static str {
        match self {
            Run::Scenario => "scenario",
            Run::Counterfactual => "counterfactual",
        }
    }
}

impl Effects {
    pub fn new(horizons: Vec<Horizon>) -> Effects {
        Effects { horizons, runs: [BTreeMap::new(), BTreeMap::new()] }
    }

    pub fn horizons(&self) -> &[Horizon] {
        &self.horizons
    }

    /// The window sums so far, for a checkpoint: every sum as its bits, in key order.
    pub fn save(&self) -> SavedEffects {
        let mut sums = Vec::new();
        for (run, map) in self.runs.iter().enumerate() {
            for (k, m) in map {
                sums.push(SavedMean {
                    run: run as u8,
                    horizon: k.horizon as u32,
                    metric: k.metric.to_string(),
                    place: [k.region, k.partner, k.sector].map(|v| v as u64),
                    sum: m.sum,
                    n: m.n,
                });
            }
        }
        SavedEffects { horizons: self.horizons.iter().map(|h| h.tick).collect(), sums }
    }

    /// Effects with the window sums of a checkpoint, for a run with these horizons;
    /// refuses sums of other horizons or of a metric this version does not know.
    pub fn restore(horizons: Vec<Horizon>, saved: SavedEffects) -> Result<Effects, String> {
        let ticks: Vec<u32> = horizons.iter().map(|h| h.tick).collect();
        if ticks != saved.horizons {
            return Err(format!(
                "its effects are for horizons at ticks {:?}, this run's are at {ticks:?}",
                saved.horizons
            ));
        }
        let mut effects = Effects::new(horizons);
        for s in saved.sums {
            let metric = METRICS
                .iter()
                .find(|&&m| m == s.metric)
                .ok_or_else(|| format!("its effects hold a metric '{}' this version does not record", s.metric))?;
            let unsaved = |v: u64| if v == u64::MAX { NA } else { v as usize };
            let [region, partner, sector] = s.place.map(unsaved);
            if s.run > 1 || s.horizon as usize >= effects.horizons.len() {
                return Err(format!("its effects name run {} and horizon {}", s.run, s.horizon));
            }
            let key = Key { horizon: s.horizon as usize, metric, region, partner, sector };
            effects.runs[s.run as usize].insert(key, Mean { sum: s.sum, n: s.n });
        }
        Ok(effects)
    }

    pub fn record(&mut self, run: Run, report: &TickReport) {
        let t = report.tick;
        for h in 0..self.horizons.len() {
            let end = self.horizons[h].tick;
            if t > end || t + WINDOW <= end {
                continue;
            }
            let map = &mut self.runs[run as usize];
            let mut add = |metric: &'static str, region: usize, partner: usize, sector: usize, v: Option<f64>| {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    let m = map.entry(Key { horizon: h, metric, region, partner, sector }).or_default();
                    m.sum += v;
                    m.n += 1;
                }
            };
            for r in &report.regions {
                let g = r.region;
                add("gdp", g, NA, NA, Some(r.gdp));
                add("real_gdp", g, NA, NA, Some(r.real_gdp));
                add("cpi", g, NA, NA, Some(r.cpi));
                add("import_price_index", g, NA, NA, Some(r.import_price_index));
                add("employment", g, NA, NA, Some(r.employment as f64));
                add("unemployment_rate", g, NA, NA, Some(r.unemployment_rate));
                add("consumption", g, NA, NA, Some(r.consumption));
                add("shortage_rate", g, NA, NA, Some(r.shortage_rate));
                add("tariff_revenue", g, NA, NA, Some(r.tariff_revenue));
                add("imports", g, NA, NA, Some(r.imports));
                add("exports", g, NA, NA, Some(r.exports));
            }
            let mut pair_value: BTreeMap<(usize, usize), f64> = BTreeMap::new();
            for tr in &report.trade {
                let (i, e, s) = (tr.importer, tr.exporter, tr.sector);
                add("import_value", i, e, s, Some(tr.value));
                add("import_quantity", i, e, s, Some(tr.quantity));
                add("tariff_rate", i, e, s, Some(tr.tariff_rate));
                add("fob_price", i, e, s, Some(tr.fob_price));
                add("border_price", i, e, s, Some(tr.fob_price * (1.0 + tr.tariff_rate)));
                add("landed_price", i, e, s, Some(tr.landed_price));
                *pair_value.entry((i, e)).or_default() += tr.value;
            }
            for ((i, e), v) in pair_value {
                add("import_value", i, e, NA, Some(v));
            }
            for s in &report.sectors {
                let (r, k) = (s.region, s.sector);
                add("output", r, NA, k, Some(s.output));
                add("producer_price", r, NA, k, Some(s.producer_price));
                add("retail_price", r, NA, k, s.retail_price);
                add("retail_price_domestic", r, NA, k, s.retail_price_domestic);
                add("retail_price_imported", r, NA, k, s.retail_price_imported);
                add("inventory", r, NA, k, Some(s.inventory));
                add("sector_shortage_rate", r, NA, k, Some(s.shortage_rate));
            }
        }
    }

    /// All effect rows, in a fixed order: metrics, then pass-through.
    pub fn rows(&self) -> Vec<EffectRow> {
        let [scen, cf] = &self.runs;
        let mut rows = Vec::new();
        for (key, m) in scen {
            let (Some(s), Some(c)) = (m.value(), cf.get(key).and_then(Mean::value)) else { continue };
            if matches!(key.metric, "border_price") {
                continue;
            }
            rows.push(self.row(key.metric, key, s, c, s - c, (c != 0.0).then(|| s / c - 1.0)));
        }
        // Pass-through: log price response over log tariff response, where the tariff moved.
        for (key, m) in scen {
            if key.metric != "tariff_rate" {
                continue;
            }
            let (Some(ts), Some(tc)) = (m.value(), cf.get(key).and_then(Mean::value)) else { continue };
            let dt = ((1.0 + ts) / (1.0 + tc)).ln();
            if dt.abs() < 0.01 {
                continue;
            }
            let mean = |map: &BTreeMap<Key, Mean>, metric, region, partner, sector| {
                map.get(&Key { horizon: key.horizon, metric, region, partner, sector }).and_then(Mean::value)
            };
            let (i, e, s) = (key.region, key.partner, key.sector);
            let pairs = [
                ("border_pass_through", "border_price", e),
                ("retail_pass_through", "retail_price", NA),
                ("retail_pass_through_imported", "retail_price_imported", NA),
            ];
            for (name, metric, partner) in pairs {
                if let (Some(ps), Some(pc)) = (mean(scen, metric, i, partner, s), mean(cf, metric, i, partner, s))
                    && ps > 0.0
                    && pc > 0.0
                {
                    let dp = (ps / pc).ln();
                    rows.push(self.row(name, &Key { partner: e, ..*key }, dp, dt, dp / dt, None));
                }
            }
        }
        rows
    }

    fn row(&self, metric: &str, key: &Key, s: f64, c: f64, change: f64, pct: Option<f64>) -> EffectRow {
        let opt = |v: usize| (v != NA).then_some(v);
        EffectRow {
            metric: metric.to_string(),
            region: opt(key.region),
            partner: opt(key.partner),
            sector: opt(key.sector),
            horizon: self.horizons[key.horizon].label.clone(),
            horizon_tick: self.horizons[key.horizon].tick,
            scenario: s,
            counterfactual: c,
            change,
            pct_change: pct.filter(|p| p.is_finite()),
        }
    }
}

/// The CSV record of a row.
pub fn record(row: &EffectRow, scenario: &Scenario) -> Vec<String> {
    let region = |v: Option<usize>| v.map(|r| scenario.regions[r].name.clone()).unwrap_or_default();
    vec![
        row.metric.clone(),
        region(row.region),
        region(row.partner),
        row.sector.map(|s| scenario.sectors[s].name.clone()).unwrap_or_default(),
        row.horizon.clone(),
        row.horizon_tick.to_string(),
        scenario.calendar.date_of(row.horizon_tick).to_string(),
        fmt_f64(row.scenario),
        fmt_f64(row.counterfactual),
        fmt_f64(row.change),
        fmt_opt(row.pct_change),
    ]
}

/// How a headline number is read from its effect rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadlineKind {
    /// The relative change (`pct_change`, a fraction), printed as a percentage.
    PctChange,
    /// The change of a rate (`change`, in fractions), printed in percentage points.
    Change,
    /// The mean `change` over the tariff lines that moved (pass-through).
    MeanChange,
}

/// One column of the headline table.
#[derive(Debug, Clone, Copy)]
pub struct HeadlineMetric {
    /// The metric in effects.csv.
    pub metric: &'static str,
    /// Its heading in the printed table.
    pub heading: &'static str,
    pub kind: HeadlineKind,
}

impl HeadlineMetric {
    /// Its name as a column of a table of runs: `gdp_pct_change`, `border_pass_through`.
    pub fn column(&self) -> String {
        match self.kind {
            HeadlineKind::PctChange => format!("{}_pct_change", self.metric),
            HeadlineKind::Change => format!("{}_change", self.metric),
            HeadlineKind::MeanChange => self.metric.to_string(),
        }
    }
}

/// The numbers of the headline table, in its columns' order.
pub const HEADLINE: [HeadlineMetric; 9] = [
    HeadlineMetric { metric: "gdp", heading: "GDP", kind: HeadlineKind::PctChange },
    HeadlineMetric { metric: "real_gdp", heading: "real GDP", kind: HeadlineKind::PctChange },
    HeadlineMetric { metric: "cpi", heading: "CPI", kind: HeadlineKind::PctChange },
    HeadlineMetric { metric: "import_price_index", heading: "import prices", kind: HeadlineKind::PctChange },
    HeadlineMetric { metric: "imports", heading: "imports", kind: HeadlineKind::PctChange },
    HeadlineMetric { metric: "unemployment_rate", heading: "unemployment", kind: HeadlineKind::Change },
    HeadlineMetric { metric: "shortage_rate", heading: "shortages", kind: HeadlineKind::Change },
    HeadlineMetric { metric: "border_pass_through", heading: "border PT", kind: HeadlineKind::MeanChange },
    HeadlineMetric { metric: "retail_pass_through", heading: "retail PT", kind: HeadlineKind::MeanChange },
];

/// The regions the policy is about: those naming or named by events and rules, in the
/// order they first appear (at most four); the first two regions when there is no policy.
pub fn headline_regions(scenario: &Scenario) -> Vec<usize> {
    let mut regions: Vec<usize> = Vec::new();
    for (g, p) in scenario.policy_pairs() {
        for r in [g, p] {
            if !regions.contains(&r) {
                regions.push(r);
            }
        }
    }
    if regions.is_empty() {
        regions = (0..scenario.n_regions().min(2)).collect();
    }
    regions.truncate(4);
    regions
}

/// The headline's horizons among those a run reached: 13 weeks, and 52 weeks (the end of
/// the run when it stops before 52 weeks).
pub fn headline_horizons<'a>(reached: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let reached: Vec<&str> = reached.into_iter().collect();
    let later = if reached.contains(&"52w") { "52w" } else { "end" };
    ["13w", later].into_iter().filter(|h| reached.contains(h)).collect()
}

/// One number of the headline table: `metric` for `region` at `horizon`.
pub fn headline_value(rows: &[EffectRow], region: usize, horizon: &str, metric: &HeadlineMetric) -> Option<f64> {
    let here = |e: &&EffectRow| e.horizon == horizon && e.metric == metric.metric && e.region == Some(region);
    let whole = |e: &&EffectRow| here(e) && e.partner.is_none() && e.sector.is_none();
    match metric.kind {
        HeadlineKind::PctChange => rows.iter().find(whole).and_then(|r| r.pct_change),
        HeadlineKind::Change => rows.iter().find(whole).map(|r| r.change),
        HeadlineKind::MeanChange => {
            let v: Vec<f64> = rows.iter().filter(here).map(|e| e.change).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        }
    }
}

/// The short table of headline effects printed at the end of `tradesim run`: the regions
/// the policy is about, 13 and 52 weeks after the first policy event (the end of the run
/// when it stops before 52 weeks).
pub fn headline(rows: &[EffectRow], scenario: &Scenario) -> String {
    let Some(table) = headline_cells(rows, scenario) else {
        return "no effects to report (the run ended before any horizon)".into();
    };
    let mut out =
        String::from("Headline effects, scenario vs counterfactual (4-week averages ending at each horizon)\n");
    let widths: Vec<usize> =
        (0..table[0].len()).map(|c| table.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    for row in &table {
        let cells: Vec<String> = row.iter().enumerate().map(|(c, v)| format!("{:>w$}", v, w = widths[c])).collect();
        out.push_str(&format!("  {}\n", cells.join("  ")));
    }
    out.push_str(&format!("  {HEADLINE_NOTE}\n"));
    out
}

/// What the headline table's short headings mean.
pub const HEADLINE_NOTE: &str = "shortages: household demand unfilled; PT = pass-through, log price change over log tariff change, mean over the tariff lines that moved";

/// The headline table's cells, heading row first (the printed table and report.html);
/// `None` when the run ended before any horizon.
pub fn headline_cells(rows: &[EffectRow], scenario: &Scenario) -> Option<Vec<Vec<String>>> {
    let horizons = headline_horizons(rows.iter().map(|r| r.horizon.as_str()));
    if horizons.is_empty() {
        return None;
    }
    let mut heading = vec!["region".to_string(), "horizon".to_string()];
    heading.extend(HEADLINE.iter().map(|m| m.heading.to_string()));
    let mut table: Vec<Vec<String>> = vec![heading];
    for r in headline_regions(scenario) {
        for &horizon in &horizons {
            let date = rows
                .iter()
                .find(|e| e.horizon == horizon)
                .map(|e| scenario.calendar.date_of(e.horizon_tick).to_string())
                .unwrap_or_default();
            let mut line = vec![scenario.regions[r].name.clone(), format!("{horizon} ({date})")];
            line.extend(HEADLINE.iter().map(|m| {
                let v = headline_value(rows, r, horizon, m);
                match (m.kind, v) {
                    (_, None) => "-".to_string(),
                    (HeadlineKind::PctChange, Some(p)) => format!("{:+.2}%", p * 100.0),
                    (HeadlineKind::Change, Some(c)) => format!("{:+.2} pp", c * 100.0),
                    (HeadlineKind::MeanChange, Some(c)) => format!("{c:.2}"),
                }
            }));
            table.push(line);
        }
    }
    Some(table)
}

/// Reads effects.csv back (as [`record`] wrote it) into rows, names resolved in `scenario`;
/// `keep` chooses rows by metric before their numbers are read.
///
/// Its cells are names (letters, digits, `_`, `-`), numbers and dates, which CSV never
/// quotes, so a line is its cells joined by commas.
pub fn parse_csv(text: &str, scenario: &Scenario, keep: impl Fn(&str) -> bool) -> Result<Vec<EffectRow>, String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    if header != HEADER.join(",") {
        return Err(format!("unexpected columns '{header}'; effects.csv has {}", HEADER.join(",")));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let bad = |what: &str| format!("line {}: {what}", i + 2);
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != HEADER.len() {
            return Err(bad(&format!("{} cells, expected {}", cells.len(), HEADER.len())));
        }
        if !keep(cells[0]) {
            continue;
        }
        let region = |c: &str| -> Result<Option<usize>, String> {
            match c {
                "" => Ok(None),
                name => scenario.region_index(name).map(Some).ok_or_else(|| bad(&format!("unknown region '{name}'"))),
            }
        };
        let number = |c: &str| -> Result<Option<f64>, String> {
            match c {
                "" => Ok(None),
                x => x.parse().map(Some).map_err(|_| bad(&format!("'{x}' is not a number"))),
            }
        };
        let sector = match cells[3] {
            "" => None,
            name => Some(scenario.sector_index(name).ok_or_else(|| bad(&format!("unknown sector '{name}'")))?),
        };
        rows.push(EffectRow {
            metric: cells[0].to_string(),
            region: region(cells[1])?,
            partner: region(cells[2])?,
            sector,
            horizon: cells[4].to_string(),
            horizon_tick: cells[5].parse().map_err(|_| bad("horizon_tick is not a whole number"))?,
            scenario: number(cells[7])?.unwrap_or(f64::NAN),
            counterfactual: number(cells[8])?.unwrap_or(f64::NAN),
            change: number(cells[9])?.unwrap_or(f64::NAN),
            pct_change: number(cells[10])?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{RegionRow, SectorRow, TradeRow};

    fn report(tick: u32, rate: f64, fob: f64, retail: f64, imports: f64) -> TickReport {
        TickReport {
            tick,
            regions: vec![
                RegionRow { region: 0, gdp: 100.0, cpi: 1.0, imports, ..Default::default() },
                RegionRow { region: 1, gdp: 50.0, cpi: 1.0, ..Default::default() },
            ],
            trade: vec![TradeRow {
                exporter: 1,
                importer: 0,
                sector: 0,
                value: imports,
                tariff_rate: rate,
                fob_price: fob,
                landed_price: fob * (1.0 + rate),
                ..Default::default()
            }],
            sectors: vec![SectorRow { region: 0, sector: 0, retail_price: Some(retail), ..Default::default() }],
            policy: vec![],
        }
    }

    /// Saved and restored in the middle of a window, effects end as if never stopped, and
    /// every metric recorded is one a checkpoint can name (a new metric not added to
    /// `METRICS` fails here).
    #[test]
    fn effects_restored_from_a_checkpoint_end_as_if_never_stopped() {
        let horizons = || vec![Horizon { label: "13w".into(), tick: 13 }, Horizon { label: "end".into(), tick: 20 }];
        let mut whole = Effects::new(horizons());
        let mut first = Effects::new(horizons());
        let rich = |tick, rate| {
            let mut r = report(tick, rate, 1.0 + tick as f64 / 100.0, 2.0, 10.0);
            r.sectors[0].retail_price_domestic = Some(1.5);
            r.sectors[0].retail_price_imported = Some(2.5);
            r
        };
        for t in 0..=11 {
            whole.record(Run::Scenario, &rich(t, 0.5));
            first.record(Run::Scenario, &rich(t, 0.5));
        }
        let saved = first.save();
        let recorded: std::collections::BTreeSet<&str> = saved.sums.iter().map(|s| s.metric.as_str()).collect();
        let listed: std::collections::BTreeSet<&str> = METRICS.iter().copied().collect();
        assert_eq!(recorded, listed, "METRICS must list exactly the metrics `record` keeps");
        let bytes = postcard::to_stdvec(&saved).unwrap();
        let mut resumed = Effects::restore(horizons(), postcard::from_bytes(&bytes).unwrap()).unwrap();
        for t in 12..=20 {
            whole.record(Run::Scenario, &rich(t, 0.5));
            resumed.record(Run::Scenario, &rich(t, 0.5));
        }
        for t in 0..=20 {
            whole.record(Run::Counterfactual, &rich(t, 0.0));
            resumed.record(Run::Counterfactual, &rich(t, 0.0));
        }
        assert!(!whole.rows().is_empty());
        assert_eq!(whole.rows(), resumed.rows());
        let other = vec![Horizon { label: "13w".into(), tick: 14 }];
        assert!(Effects::restore(other, first.save()).unwrap_err().contains("horizons"));
        let mut unknown = first.save();
        unknown.sums[0].metric = "gnp".into();
        assert!(Effects::restore(horizons(), unknown).unwrap_err().contains("'gnp'"));
    }

    #[test]
    fn pass_through_is_log_price_change_over_log_tariff_change() {
        let horizons = vec![Horizon { label: "13w".into(), tick: 13 }];
        let mut fx = Effects::new(horizons);
        for t in 10..=13 {
            // Scenario: tariff 20% -> 100%, fob unchanged, retail up by 10%.
            fx.record(Run::Scenario, &report(t, 1.0, 2.0, 1.1, 40.0));
            fx.record(Run::Counterfactual, &report(t, 0.2, 2.0, 1.0, 80.0));
        }
        // Outside the window: ignored.
        fx.record(Run::Scenario, &report(9, 5.0, 9.0, 9.0, 0.0));
        let rows = fx.rows();
        let get = |m: &str| rows.iter().find(|r| r.metric == m).unwrap_or_else(|| panic!("{m}"));
        let dt = (2.0f64 / 1.2).ln();
        let border = get("border_pass_through");
        assert!((border.change - 1.0).abs() < 1e-12, "{border:?}");
        assert_eq!((border.region, border.partner, border.sector), (Some(0), Some(1), Some(0)));
        let retail = get("retail_pass_through");
        assert!((retail.change - 1.1f64.ln() / dt).abs() < 1e-12, "{retail:?}");
        let imports = get("imports");
        assert_eq!((imports.scenario, imports.counterfactual, imports.change), (40.0, 80.0, -40.0));
        assert_eq!(imports.pct_change, Some(-0.5));
        let table = headline(&rows, &crate::scenario::parse(crate::scenario::embedded("small").unwrap(), "s").unwrap());
        assert!(table.contains("HOME") && table.contains("13w"), "{table}");
    }

    #[test]
    fn effects_csv_reads_back_as_written() {
        let sc = crate::scenario::parse(crate::scenario::embedded("small").unwrap(), "s").unwrap();
        let rows = vec![
            EffectRow {
                metric: "gdp".into(),
                region: Some(1),
                partner: None,
                sector: None,
                horizon: "13w".into(),
                horizon_tick: 30,
                scenario: 1.5,
                counterfactual: 1.25,
                change: 0.25,
                pct_change: Some(0.2),
            },
            EffectRow {
                metric: "border_pass_through".into(),
                region: Some(0),
                partner: Some(1),
                sector: Some(2),
                horizon: "end".into(),
                horizon_tick: 52,
                scenario: -0.1,
                counterfactual: 0.3,
                change: 1e-17,
                pct_change: None,
            },
        ];
        let mut text = HEADER.join(",") + "\n";
        for r in &rows {
            text += &(record(r, &sc).join(",") + "\n");
        }
        assert_eq!(parse_csv(&text, &sc, |_| true).unwrap(), rows);
        assert_eq!(parse_csv(&text, &sc, |m| m == "gdp").unwrap(), rows[..1]);
        assert!(parse_csv("metric,region\n", &sc, |_| true).unwrap_err().contains("unexpected columns"));
    }

    #[test]
    fn horizons_count_from_the_first_policy_event() {
        let sc = crate::scenario::parse(crate::scenario::embedded("small").unwrap(), "s").unwrap();
        let first = sc.first_policy_tick().unwrap();
        let h = horizons(&sc, sc.ticks);
        assert_eq!(h[0], Horizon { label: "13w".into(), tick: first + 13 });
        assert_eq!(h.last().unwrap(), &Horizon { label: "end".into(), tick: sc.ticks - 1 });
        assert!(h.iter().all(|x| x.tick < sc.ticks));
    }
}
