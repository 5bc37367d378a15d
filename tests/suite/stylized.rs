//! Stylized facts of the 2025 tariff war, on the flagship at reduced scale, scenario vs
//! counterfactual (the effects a run writes to effects.csv).

use tradesim::effects::EffectRow;
use tradesim::run::{RunOptions, Silent, run};

struct Effects {
    rows: Vec<EffectRow>,
    sc: tradesim::Scenario,
}

impl Effects {
    fn get(
        &self,
        metric: &str,
        region: &str,
        partner: Option<&str>,
        sector: Option<&str>,
        horizon: &str,
    ) -> &EffectRow {
        let r = self.sc.region_index(region);
        let p = partner.map(|p| self.sc.region_index(p).unwrap());
        let s = sector.map(|s| self.sc.sector_index(s).unwrap());
        self.rows
            .iter()
            .find(|e| e.metric == metric && e.region == r && e.partner == p && e.sector == s && e.horizon == horizon)
            .unwrap_or_else(|| panic!("no effect {metric} {region} {partner:?} {sector:?} {horizon}"))
    }
}

fn flagship_effects() -> Effects {
    let sc = crate::common::embedded("us_china_2025");
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new(tmp.path().join("flagship"));
    opts.scale = 0.05;
    let summary = run(sc.clone(), &opts, &mut Silent).expect("flagship runs");
    Effects { rows: summary.effects, sc: sc.scaled(0.05) }
}

#[test]
fn the_2025_tariff_war_reproduces_its_stylized_facts() {
    let fx = flagship_effects();

    // Border: US import prices from China rise by nearly the full tariff (exporters absorb
    // little), on every tariff line that moved.
    for sector in ["CONS", "MACH", "AGR"] {
        let border = fx.get("border_pass_through", "USA", Some("CHN"), Some(sector), "13w");
        assert!(border.change > 0.85 && border.change < 1.05, "border pass-through {sector}: {border:?}");
    }
    // Shelves: US retail prices rise much less than the border price, and later.
    let retail_13 = fx.get("retail_pass_through", "USA", Some("CHN"), Some("CONS"), "13w");
    let retail_26 = fx.get("retail_pass_through", "USA", Some("CHN"), Some("CONS"), "26w");
    assert!(retail_13.change < 0.5, "retail pass-through at 13 weeks: {retail_13:?}");
    assert!(retail_26.change > retail_13.change, "retail prices should keep rising: {retail_13:?} then {retail_26:?}");

    // Trade: US imports from China fall; imports from third countries rise.
    let from_china = fx.get("import_value", "USA", Some("CHN"), None, "26w");
    assert!(from_china.pct_change.unwrap() < -0.25, "US imports from China: {from_china:?}");
    let third: f64 = ["EU", "VNM", "MEX", "BRA", "ROW"]
        .iter()
        .map(|c| fx.get("import_value", "USA", Some(c), None, "26w").change)
        .sum();
    assert!(third > 0.0, "US imports from third countries should rise, changed by {third}");

    // Soybeans: US farm exports to China collapse under the boycott.
    let soy = fx.get("import_value", "CHN", Some("USA"), Some("AGR"), "26w");
    assert!(soy.pct_change.unwrap() < -0.8, "US soybean exports to China: {soy:?}");

    // Shortages rise where US supply depends on China (electronics, consumer goods).
    let rose = ["ELEC", "CONS"]
        .iter()
        .any(|s| ["26w", "52w"].iter().any(|h| fx.get("sector_shortage_rate", "USA", None, Some(s), h).change > 0.001));
    assert!(rose, "no rise in US shortages of electronics or consumer goods");
}
