//! Shared helpers: build scenarios from text, run them, read what they produced.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use tradesim::Simulation;
use tradesim::metrics::TickReport;
use tradesim::scenario::{self, Scenario};

/// Parses scenario text, failing the test with the full error when it is invalid.
pub fn scenario(text: &str) -> Scenario {
    scenario::parse(text, "<test>").unwrap_or_else(|e| panic!("test scenario is invalid:\n{e}"))
}

/// The embedded scenario `name`, parsed.
pub fn embedded(name: &str) -> Scenario {
    scenario(scenario::embedded(name).expect("embedded scenario"))
}

/// Runs `ticks` ticks (all of them when `None`) and returns every report and the simulation.
pub fn run(sc: &Scenario, policy: bool, ticks: Option<u32>) -> (Vec<TickReport>, Simulation) {
    let mut sim = Simulation::new(Arc::new(sc.clone()), policy);
    let n = ticks.unwrap_or(sc.ticks);
    let reports = (0..n).map(|_| sim.step().clone()).collect();
    (reports, sim)
}

/// Every CSV file a run with its counterfactual writes: `effects.csv`, then each world's
/// series (`tradesim::output::series::FILES`), scenario first.
pub fn run_files() -> Vec<String> {
    let series = ["scenario", "counterfactual"]
        .into_iter()
        .flat_map(|world| tradesim::output::series::FILES.iter().map(move |f| format!("{world}/{f}")));
    std::iter::once("effects.csv".to_string()).chain(series).collect()
}

/// `tradesim run ARGS --threads THREADS --out OUT` (the binary this suite was built with),
/// which must succeed.
pub fn run_tradesim(out: &Path, threads: u32, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("run")
        .args(args)
        .arg("--threads")
        .arg(threads.to_string())
        .arg("--out")
        .arg(out)
        .env_remove("RUST_LOG")
        .output()
        .expect("run tradesim");
    assert!(output.status.success(), "tradesim failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// The bytes of `file` in the run directory `dir`.
pub fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// A tiny three-region world: HOME buys GOODS from itself, PARTNER and THIRD; SERV is
/// non-tradable. `behaviour` lines go in [behaviour]; `rest` is appended (events, rules...).
pub fn tiny(behaviour: &str, rest: &str) -> String {
    format!(
        r#"
name = "tiny"
start = 2024-01-01
end = 2024-12-30
seed = 11

[[regions]]
name = "HOME"
gdp = 10e12
households = 600
producers_per_sector = 12
retailers_per_sector = 6

[[regions]]
name = "PARTNER"
gdp = 10e12
households = 600
producers_per_sector = 12
retailers_per_sector = 6

[[regions]]
name = "THIRD"
gdp = 5e12
households = 300
producers_per_sector = 8
retailers_per_sector = 4

[[sectors]]
name = "GOODS"
budget_share = 0.4
markup = 0.2
inputs = {{ SERV = 0.1 }}

[[sectors]]
name = "SERV"
tradable = false
budget_share = 0.6
markup = 0.15
inputs = {{ GOODS = 0.05 }}

[shipping]
default_lead_weeks = 3
default_transport = 0.05

[sourcing]
home_share = 0.6

[[sourcing.shares]]
importer = "HOME"
sector = "GOODS"
shares = {{ HOME = 0.4, PARTNER = 0.4, THIRD = 0.2 }}

[behaviour]
{behaviour}

{rest}
"#
    )
}

/// The run's identities held (`what` names it in the failure): money exact to the cent,
/// goods within 1e-9, net foreign assets summing to zero and moving by each region's
/// current account.
pub fn assert_identities(what: &str, res: &tradesim::metrics::ledger::Residuals) {
    assert_eq!(
        res.money_worst, 0,
        "{what}: money moved by {} cents at tick {:?}",
        res.money_worst, res.money_worst_tick
    );
    assert!(
        res.goods_worst < 1e-9,
        "{what}: goods residual {} at tick {:?} sector {:?}",
        res.goods_worst,
        res.goods_worst_tick,
        res.goods_worst_sector
    );
    assert_eq!(
        (res.foreign_assets_worst, res.current_account_worst),
        (0, 0),
        "{what}: net foreign assets do not close: {res:?}"
    );
}

/// Mean of `f` over reports with tick in `ticks`.
pub fn mean(reports: &[TickReport], ticks: std::ops::Range<u32>, f: impl Fn(&TickReport) -> f64) -> f64 {
    let xs: Vec<f64> = reports.iter().filter(|r| ticks.contains(&r.tick)).map(f).collect();
    assert!(!xs.is_empty(), "no reports in {ticks:?}");
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Value of imports of `sector` into `importer` from `exporter` in one report (region indices).
pub fn imports(report: &TickReport, importer: usize, exporter: usize, sector: usize) -> f64 {
    report
        .trade
        .iter()
        .find(|t| t.importer == importer && t.exporter == exporter && t.sector == sector)
        .map(|t| t.value)
        .unwrap_or(0.0)
}

/// Checks every number in a report is finite.
pub fn assert_finite(report: &TickReport) {
    for r in &report.regions {
        let values =
            [r.gdp, r.real_gdp, r.cpi, r.import_price_index, r.unemployment_rate, r.consumption, r.shortage_rate];
        let finance = [r.current_account, r.foreign_lending, r.net_foreign_assets];
        for v in values.into_iter().chain(finance) {
            assert!(v.is_finite(), "tick {}: region row {r:?}", report.tick);
        }
    }
    for t in &report.trade {
        for v in [t.quantity, t.value, t.tariff_rate, t.tariff_paid, t.fob_price, t.landed_price] {
            assert!(v.is_finite(), "tick {}: trade row {t:?}", report.tick);
        }
    }
    for s in &report.sectors {
        let opts = [s.retail_price, s.retail_price_domestic, s.retail_price_imported, s.inventory_to_sales];
        for v in [s.output, s.producer_price, s.inventory, s.unfilled_orders, s.shortage_rate]
            .into_iter()
            .chain(opts.into_iter().flatten())
        {
            assert!(v.is_finite(), "tick {}: sector row {s:?}", report.tick);
        }
    }
}
