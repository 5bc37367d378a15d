//! Which charts to draw and their data, from a run read back: the headline story,
//! scenario against counterfactual. Drawing is `draw`'s job; nothing here knows pixels.
//!
//! Flows (GDP, imports, trade) are 4-week trailing means, as effects.csv's horizons are.
//! Lines of the scenario are solid, of the counterfactual dashed, in the same colour.

use super::{RunDir, Skipped, Table, World};
use crate::effects;
use std::collections::BTreeMap;

/// One PNG: a title, a note under it, and a grid of panels.
#[derive(Debug, Clone)]
pub struct Chart {
    pub file: String,
    pub title: String,
    pub note: String,
    pub panels: Vec<Panel>,
    /// Ticks marked with a vertical line (the first policy change).
    pub marks: Vec<u32>,
    pub x: XAxis,
}

/// What the x axis holds.
#[derive(Debug, Clone)]
pub enum XAxis {
    /// Ticks `0..=last_tick`, labelled with their dates.
    Weeks { last_tick: u32 },
    /// A swept parameter's values; lines are drawn with a marker at each point.
    Values { name: String },
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    /// Vertical intervals (a sweep's replicates' 95% interval at a point).
    pub intervals: Vec<Interval>,
}

#[derive(Debug, Clone, Copy)]
pub struct Interval {
    pub color: usize,
    pub x: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone)]
pub struct Line {
    /// In the legend; `None` for a counterfactual line whose scenario twin is labelled.
    pub label: Option<String>,
    pub color: usize,
    pub dashed: bool,
    /// (tick, value), finite values only, by tick.
    pub points: Vec<(f64, f64)>,
}

type Series = BTreeMap<u32, f64>;

/// Sums `column` over the rows matching `filters`, by tick (so trade summed over sectors
/// when no sector is given). Non-finite cells are left out.
fn series(t: &Table, filters: &[(&str, &str)], column: &str) -> Series {
    let (ticks, values) = (t.num("tick"), t.num(column));
    let mut out = Series::new();
    for i in t.rows_where(filters) {
        if values[i].is_finite() {
            *out.entry(ticks[i] as u32).or_insert(0.0) += values[i];
        }
    }
    out
}

/// Trailing mean over the last `WINDOW` ticks present.
fn smooth(s: &Series) -> Series {
    let w = effects::WINDOW as usize;
    let values: Vec<(u32, f64)> = s.iter().map(|(&t, &v)| (t, v)).collect();
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(w);
            let slice = &values[from..=i];
            (values[i].0, slice.iter().map(|x| x.1).sum::<f64>() / slice.len() as f64)
        })
        .collect()
}

fn points(s: &Series, scale: f64) -> Vec<(f64, f64)> {
    s.iter().map(|(&t, &v)| (t as f64, v * scale)).filter(|p| p.1.is_finite()).collect()
}

/// Percent difference of the scenario from the counterfactual, tick by tick; without a
/// counterfactual, percent change from the scenario's first value.
fn pct(s: &Series, cf: Option<&Series>) -> Vec<(f64, f64)> {
    match cf {
        Some(cf) => s
            .iter()
            .filter_map(|(t, &v)| cf.get(t).filter(|&&c| c != 0.0).map(|&c| (*t as f64, 100.0 * (v / c - 1.0))))
            .collect(),
        None => {
            let Some((_, &base)) = s.iter().next().filter(|(_, b)| **b != 0.0) else { return Vec::new() };
            s.iter().map(|(&t, &v)| (t as f64, 100.0 * (v / base - 1.0))).collect()
        }
    }
}

/// A scale and its name for money flows, chosen from the largest value.
fn money_scale(lines: &[&Series]) -> (f64, &'static str) {
    let max = lines.iter().flat_map(|s| s.values()).fold(0.0f64, |m, v| m.max(v.abs()));
    for (scale, name) in [(1e12, "trillions"), (1e9, "billions"), (1e6, "millions"), (1e3, "thousands")] {
        if max >= scale {
            return (1.0 / scale, name);
        }
    }
    (1.0, "currency units")
}

/// A solid scenario line and, when there is a counterfactual, its dashed twin.
fn pair(label: String, color: usize, s: Vec<(f64, f64)>, cf: Option<Vec<(f64, f64)>>) -> Vec<Line> {
    let mut v = vec![Line { label: Some(label), color, dashed: false, points: s }];
    if let Some(cf) = cf {
        v.push(Line { label: None, color, dashed: true, points: cf });
    }
    v
}

struct Ctx<'a> {
    run: &'a RunDir,
    s: &'a World,
    cf: Option<&'a World>,
    regions: Vec<String>,
    sectors: Vec<String>,
    /// (government, partner) pairs of the policy, at least one when the world has two regions.
    pairs: Vec<(usize, usize)>,
}

impl Ctx<'_> {
    fn vs(&self) -> &'static str {
        if self.cf.is_some() { "% against counterfactual" } else { "% change since the first week" }
    }

    /// Tariff lines of `(g, p)` that the policy moved, most moved first.
    fn moved(&self, g: usize, p: usize, instrument: &str) -> Vec<usize> {
        let t = &self.s.policy;
        let rows = t.rows_where(&[
            ("government", &self.regions[g]),
            ("partner", &self.regions[p]),
            ("instrument", instrument),
        ]);
        let mut moved: Vec<(usize, f64)> = Vec::new();
        for i in rows {
            let Some(s) = self.sectors.iter().position(|n| *n == t.text("sector")[i]) else { continue };
            let size = (t.num("new_rate")[i] - t.num("old_rate")[i]).abs();
            match moved.iter_mut().find(|m| m.0 == s) {
                Some(m) => m.1 = m.1.max(size),
                None => moved.push((s, size)),
            }
        }
        moved.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        moved.into_iter().map(|m| m.0).collect()
    }
}

/// The charts of a run, and a line for each one left out and why.
pub fn charts(run: &RunDir) -> (Vec<Chart>, Vec<Skipped>) {
    let sc = &run.manifest.scenario;
    let mut pairs = sc.policy_pairs();
    if pairs.is_empty() && sc.regions.len() >= 2 {
        pairs.push((0, 1));
    }
    let ctx = Ctx {
        run,
        s: &run.scenario,
        cf: run.counterfactual.as_ref(),
        regions: sc.regions.iter().map(|r| r.name.clone()).collect(),
        sectors: sc.sectors.iter().map(|s| s.name.clone()).collect(),
        pairs,
    };
    let last_tick = ctx.s.regions.num("tick").iter().fold(0.0f64, |m, &t| m.max(t)) as u32;
    let marks: Vec<u32> = run.manifest.first_policy_tick.into_iter().collect();
    let world = if ctx.cf.is_some() {
        "solid: scenario, dashed: counterfactual"
    } else {
        "scenario only (run without a counterfactual)"
    };
    let flows = "flows are 4-week trailing means";
    let grey = "grey line: the first policy change";
    let specs: Vec<(&str, String, String, Vec<Panel>)> = vec![
        (
            "tariffs.png",
            "Tariff rates in force".into(),
            format!("rates each government charges its partner, by sector; {grey}"),
            tariffs(&ctx),
        ),
        ("imports.png", "Bilateral imports and diversion".into(), format!("{world}; {flows}; {grey}"), imports(&ctx)),
        (
            "prices.png",
            "Border and retail prices of tariffed goods".into(),
            format!("{}; {grey}", ctx.vs()),
            prices(&ctx),
        ),
        ("macro.png", "GDP, prices and jobs".into(), format!("{world}; {flows}; {grey}"), macro_panels(&ctx)),
        ("shortages.png", "Shortages".into(), format!("{world}; {grey}"), shortages(&ctx)),
        ("boycott.png", "Boycotted trade".into(), format!("{world}; {flows}; {grey}"), boycott(&ctx)),
    ];
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (file, title, note, panels) in specs {
        // An empty panel is a defect of the chart, not a finding: leave it out.
        let panels: Vec<Panel> = panels.into_iter().filter(|p| p.lines.iter().any(|l| l.points.len() >= 2)).collect();
        if panels.is_empty() {
            let why = match file {
                "boycott.png" => "the scenario has no boycott",
                _ => "the run has no data for it",
            };
            skipped.push(Skipped { file: file.into(), reason: why.into() });
        } else {
            out.push(Chart {
                file: file.into(),
                title,
                note,
                panels,
                marks: marks.clone(),
                x: XAxis::Weeks { last_tick },
            });
        }
    }
    (out, skipped)
}

/// The rate in force on each moved line, from its tick-0 rate in trade.csv and the
/// changes in policy.csv, as steps.
fn tariffs(c: &Ctx) -> Vec<Panel> {
    let last = c.s.regions.num("tick").iter().fold(0.0f64, |m, &t| m.max(t));
    let mut panels = Vec::new();
    for &(g, p) in c.pairs.iter().take(4) {
        let (gn, pn) = (&c.regions[g], &c.regions[p]);
        let mut sectors = c.moved(g, p, "tariff");
        sectors.sort();
        if sectors.is_empty() {
            sectors = (0..c.sectors.len()).filter(|&s| c.run.manifest.scenario.sectors[s].tradable).collect();
        }
        let mut lines = Vec::new();
        for s in sectors {
            let sn = &c.sectors[s];
            let start = series(&c.s.trade, &[("exporter", pn), ("importer", gn), ("sector", sn)], "tariff_rate");
            let Some(&rate0) = start.values().next() else { continue };
            let mut pts = vec![(0.0, 100.0 * rate0)];
            let t = &c.s.policy;
            for i in t.rows_where(&[("government", gn), ("partner", pn), ("sector", sn), ("instrument", "tariff")]) {
                let tick = t.num("tick")[i];
                pts.push((tick, 100.0 * t.num("old_rate")[i]));
                pts.push((tick, 100.0 * t.num("new_rate")[i]));
            }
            let end = pts.last().map(|p| p.1).unwrap_or(0.0);
            pts.push((last, end));
            lines.push(Line { label: Some(sn.clone()), color: s, dashed: false, points: pts });
        }
        panels.push(Panel {
            intervals: Vec::new(),
            title: format!("{gn}'s tariffs on imports from {pn}"),
            y_label: "tariff rate (%)".into(),
            lines,
        });
    }
    panels
}

fn imports(c: &Ctx) -> Vec<Panel> {
    let mut panels = Vec::new();
    let flow = |w: &World, x: &str, m: &str| smooth(&series(&w.trade, &[("exporter", x), ("importer", m)], "value"));
    for &(g, p) in c.pairs.iter().take(2) {
        let (gn, pn) = (&c.regions[g], &c.regions[p]);
        let s = flow(c.s, pn, gn);
        let cf = c.cf.map(|w| flow(w, pn, gn));
        let (k, unit) = money_scale(&[&s]);
        panels.push(Panel {
            intervals: Vec::new(),
            title: format!("{gn}'s imports from {pn}"),
            y_label: format!("{unit} / week"),
            lines: pair(pn.clone(), p, points(&s, k), cf.as_ref().map(|x| points(x, k))),
        });
        let third: Vec<usize> = (0..c.regions.len()).filter(|&r| r != g && r != p).collect();
        if third.is_empty() {
            continue;
        }
        let s: Vec<Series> = third.iter().map(|&x| flow(c.s, &c.regions[x], gn)).collect();
        let cf: Option<Vec<Series>> = c.cf.map(|w| third.iter().map(|&x| flow(w, &c.regions[x], gn)).collect());
        let (k, unit) = money_scale(&s.iter().collect::<Vec<_>>());
        let mut lines = Vec::new();
        for (i, &x) in third.iter().enumerate() {
            lines.extend(pair(c.regions[x].clone(), x, points(&s[i], k), cf.as_ref().map(|cf| points(&cf[i], k))));
        }
        panels.push(Panel {
            intervals: Vec::new(),
            title: format!("{gn}'s imports from third countries"),
            y_label: format!("{unit} / week"),
            lines,
        });
    }
    panels
}

fn prices(c: &Ctx) -> Vec<Panel> {
    let mut panels = Vec::new();
    for &(g, p) in c.pairs.iter().take(2) {
        let (gn, pn) = (&c.regions[g], &c.regions[p]);
        let moved = c.moved(g, p, "tariff");
        let consumer: Vec<usize> =
            moved.iter().copied().filter(|&s| c.run.manifest.scenario.sectors[s].is_consumer()).collect();
        let chosen = if consumer.is_empty() { moved } else { consumer };
        for &s in chosen.iter().take(2) {
            let sn = &c.sectors[s];
            let mut lines = Vec::new();
            let border =
                |w: &World| series(&w.trade, &[("exporter", pn), ("importer", gn), ("sector", sn)], "landed_price");
            let retail = |w: &World, col: &str| series(&w.sectors, &[("region", gn), ("sector", sn)], col);
            let cf_border = c.cf.map(border);
            lines.push(Line {
                label: Some(format!("border price of {pn}'s goods (tariff paid)")),
                color: 0,
                dashed: false,
                points: pct(&border(c.s), cf_border.as_ref()),
            });
            for (col, label, color) in
                [("retail_price_imported", "retail price, imported stock", 1), ("retail_price", "retail price, all", 2)]
            {
                let cf = c.cf.map(|w| retail(w, col));
                lines.push(Line {
                    label: Some(label.into()),
                    color,
                    dashed: false,
                    points: pct(&retail(c.s, col), cf.as_ref()),
                });
            }
            panels.push(Panel {
                intervals: Vec::new(),
                title: format!("{sn} in {gn}, tariffed on {pn}"),
                y_label: c.vs().into(),
                lines,
            });
        }
    }
    panels
}

fn main_regions(c: &Ctx) -> Vec<usize> {
    effects::headline_regions(&c.run.manifest.scenario)
}

fn macro_panels(c: &Ctx) -> Vec<Panel> {
    let regions = main_regions(c);
    let mut panels = Vec::new();
    for (col, title, flow) in
        [("real_gdp", "Real GDP", true), ("cpi", "Consumer prices (CPI)", false), ("imports", "Imports", true)]
    {
        let get = |w: &World, r: &str| {
            let s = series(&w.regions, &[("region", r)], col);
            if flow { smooth(&s) } else { s }
        };
        let lines = regions
            .iter()
            .map(|&r| {
                let rn = &c.regions[r];
                let cf = c.cf.map(|w| get(w, rn));
                Line { label: Some(rn.clone()), color: r, dashed: false, points: pct(&get(c.s, rn), cf.as_ref()) }
            })
            .collect();
        panels.push(Panel { intervals: Vec::new(), title: title.into(), y_label: c.vs().into(), lines });
        if col == "cpi" {
            let mut lines = Vec::new();
            for &r in &regions {
                let rn = &c.regions[r];
                let u = |w: &World| points(&series(&w.regions, &[("region", rn)], "unemployment_rate"), 100.0);
                lines.extend(pair(rn.clone(), r, u(c.s), c.cf.map(u)));
            }
            panels.push(Panel {
                intervals: Vec::new(),
                title: "Unemployment rate".into(),
                y_label: "% of households".into(),
                lines,
            });
        }
    }
    panels
}

fn shortages(c: &Ctx) -> Vec<Panel> {
    let mut lines = Vec::new();
    for r in main_regions(c) {
        let rn = &c.regions[r];
        let u = |w: &World| points(&series(&w.regions, &[("region", rn)], "shortage_rate"), 100.0);
        lines.extend(pair(rn.clone(), r, u(c.s), c.cf.map(u)));
    }
    let mut panels = vec![Panel {
        intervals: Vec::new(),
        title: "Households' demand left unmet".into(),
        y_label: "% of desired spending".into(),
        lines,
    }];
    let mut importers: Vec<usize> = Vec::new();
    for &(g, _) in &c.pairs {
        if !importers.contains(&g) && importers.len() < 3 {
            importers.push(g);
        }
    }
    for g in importers {
        let gn = &c.regions[g];
        let mut sectors: Vec<usize> =
            c.pairs.iter().filter(|p| p.0 == g).flat_map(|&(g, p)| c.moved(g, p, "tariff")).collect();
        sectors.sort();
        sectors.dedup();
        let mut lines = Vec::new();
        for s in sectors {
            let sn = &c.sectors[s];
            let u = |w: &World| points(&series(&w.sectors, &[("region", gn), ("sector", sn)], "shortage_rate"), 100.0);
            lines.extend(pair(sn.clone(), s, u(c.s), c.cf.map(u)));
        }
        panels.push(Panel {
            intervals: Vec::new(),
            title: format!("Unmet demand in {gn}, tariffed sectors"),
            y_label: "% of households' and firms' demand".into(),
            lines,
        });
    }
    panels
}

fn boycott(c: &Ctx) -> Vec<Panel> {
    let sc = &c.run.manifest.scenario;
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for e in &sc.events {
        if matches!(e.kind, crate::scenario::EventKind::Boycott(_)) {
            for &s in &e.sectors {
                if !seen.contains(&(e.government, s)) {
                    seen.push((e.government, s));
                }
            }
        }
    }
    let mut panels = Vec::new();
    for (g, s) in seen.into_iter().take(2) {
        let (gn, sn) = (&c.regions[g], &c.sectors[s]);
        let origins: Vec<usize> = (0..c.regions.len()).filter(|&x| x != g).collect();
        let flow = |w: &World, x: usize| {
            smooth(&series(&w.trade, &[("exporter", &c.regions[x]), ("importer", gn), ("sector", sn)], "value"))
        };
        let s_all: Vec<Series> = origins.iter().map(|&x| flow(c.s, x)).collect();
        let cf_all: Option<Vec<Series>> = c.cf.map(|w| origins.iter().map(|&x| flow(w, x)).collect());
        let (k, unit) = money_scale(&s_all.iter().collect::<Vec<_>>());
        let mut lines = Vec::new();
        for (i, &x) in origins.iter().enumerate() {
            // Origins that never sell the good would only crowd the legend.
            if s_all[i].values().all(|&v| v == 0.0)
                && cf_all.as_ref().is_none_or(|cf| cf[i].values().all(|&v| v == 0.0))
            {
                continue;
            }
            lines.extend(pair(
                c.regions[x].clone(),
                x,
                points(&s_all[i], k),
                cf_all.as_ref().map(|cf| points(&cf[i], k)),
            ));
        }
        panels.push(Panel {
            intervals: Vec::new(),
            title: format!("{gn}'s imports of {sn}, by origin"),
            y_label: format!("{unit} / week"),
            lines,
        });
    }
    panels
}
