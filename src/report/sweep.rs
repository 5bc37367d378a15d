//! `tradesim plot SWEEP_DIR`: headline effects against each swept parameter, the mean over
//! replicates with its 95% interval, from the summary.csv that `sweep collect` wrote.

use super::chart::{Chart, Interval, Line, Panel, XAxis};
use super::{ReportError, Skipped};
use std::path::Path;

/// A directory `sweep plan` made.
pub fn is_sweep(dir: &Path) -> bool {
    dir.join("sweep.toml").is_file() && dir.join("points.csv").is_file()
}

struct Row {
    params: Vec<String>,
    effect: String,
    mean: f64,
    low: f64,
    high: f64,
}

/// Effects drawn, at the latest horizon reached: (metric suffix, title, unit).
const METRICS: [(&str, &str, &str); 4] = [
    ("real_gdp_pct_change", "real GDP", "% against counterfactual"),
    ("cpi_pct_change", "CPI", "% against counterfactual"),
    ("imports_pct_change", "imports", "% against counterfactual"),
    ("unemployment_rate_change", "unemployment", "pp against counterfactual"),
];
const HORIZONS: [&str; 4] = ["52w", "end", "26w", "13w"];

fn split(effect: &str) -> Option<(&str, &str, &str)> {
    HORIZONS.iter().find_map(|h| {
        let tag = format!("_{h}_");
        effect.find(&tag).map(|i| (&effect[..i], *h, &effect[i + tag.len()..]))
    })
}

fn read_summary(path: &Path) -> Result<(Vec<String>, Vec<Row>), ReportError> {
    let bad = |m: String| ReportError::Input(format!("{}: {m}", path.display()));
    let dir = path.parent().unwrap_or(path);
    if !path.exists() && dir.join("summary.parquet").is_file() {
        return Err(bad(format!(
            "missing: the sweep was collected with --format parquet; `tradesim sweep collect {} --format both` writes the summary.csv that plot reads",
            dir.display()
        )));
    }
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| bad(format!("{e}; run `tradesim sweep collect {}` first", dir.display())))?;
    let header: Vec<String> = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(str::to_string).collect();
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            bad(format!(
                "has no column '{name}'; it was written by another version of tradesim (this is {})",
                crate::VERSION
            ))
        })
    };
    let (effect, mean, low, high) = (col("effect")?, col("mean")?, col("ci95_low")?, col("ci95_high")?);
    let params: Vec<String> = header[1..effect].to_vec();
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let num = |c: usize| -> Result<f64, ReportError> {
            match &record[c] {
                "" => Ok(f64::NAN),
                x => x.parse().map_err(|_| bad(format!("line {}: '{x}' in {} is not a number", line + 2, header[c]))),
            }
        };
        rows.push(Row {
            params: (1..effect).map(|c| record[c].to_string()).collect(),
            effect: record[effect].to_string(),
            mean: num(mean)?,
            low: num(low)?,
            high: num(high)?,
        });
    }
    Ok((params, rows))
}

/// One chart per swept parameter with numeric values (others are listed as not drawn).
pub fn charts(dir: &Path) -> Result<(Vec<Chart>, Vec<Skipped>), ReportError> {
    let (params, rows) = read_summary(&dir.join("summary.csv"))?;
    // The first two regions, at the latest horizon the runs reached.
    let mut regions: Vec<&str> = Vec::new();
    let mut horizon = None;
    for r in &rows {
        if let Some((region, h, _)) = split(&r.effect) {
            if !regions.contains(&region) {
                regions.push(region);
            }
            let rank = |h: &str| HORIZONS.iter().position(|x| *x == h);
            if horizon.is_none_or(|cur| rank(h) < rank(cur)) {
                horizon = Some(h);
            }
        }
    }
    regions.truncate(2);
    let mut charts = Vec::new();
    let mut skipped = Vec::new();
    for (k, param) in params.iter().enumerate() {
        let file = format!("sweep_{}.png", param.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        let xs: Option<Vec<f64>> = rows.iter().map(|r| r.params[k].parse::<f64>().ok()).collect();
        let Some(xs) = xs else {
            skipped.push(Skipped { file: file.clone(), reason: format!("{param} does not take numbers") });
            continue;
        };
        // One line per combination of the other parameters' values.
        let others = |r: &Row| -> String {
            let v: Vec<String> =
                (0..params.len()).filter(|&j| j != k).map(|j| format!("{}={}", params[j], r.params[j])).collect();
            v.join(", ")
        };
        let mut groups: Vec<String> = Vec::new();
        for r in &rows {
            let g = others(r);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        // Lines only where each combination of the others holds two or more values of this
        // one (a grid); a random, Latin-hypercube or Sobol' design is drawn as points.
        let lined = groups.iter().all(|g| {
            let mut x: Vec<f64> = rows.iter().zip(&xs).filter(|(r, _)| others(r) == *g).map(|(_, &x)| x).collect();
            x.sort_by(f64::total_cmp);
            x.dedup();
            x.len() >= 2
        });
        let mut panels = Vec::new();
        for region in &regions {
            for (metric, title, unit) in METRICS {
                let effect = format!("{region}_{}_{metric}", horizon.unwrap_or("end"));
                let mut panel = Panel {
                    title: format!("{region} {title}, {}", horizon.unwrap_or("end")),
                    y_label: unit.into(),
                    lines: Vec::new(),
                    intervals: Vec::new(),
                };
                if !lined {
                    for (i, r) in rows.iter().enumerate() {
                        if r.effect == effect && r.mean.is_finite() {
                            if r.low.is_finite() && r.high.is_finite() {
                                panel.intervals.push(Interval {
                                    color: 0,
                                    x: xs[i],
                                    low: 100.0 * r.low,
                                    high: 100.0 * r.high,
                                });
                            }
                            let label = panel.lines.is_empty().then(|| "each point of the design".to_string());
                            panel.lines.push(Line {
                                label,
                                color: 0,
                                dashed: false,
                                points: vec![(xs[i], 100.0 * r.mean)],
                            });
                        }
                    }
                }
                for (color, g) in groups.iter().enumerate().filter(|_| lined) {
                    let mut pts: Vec<(f64, f64)> = Vec::new();
                    for (i, r) in rows.iter().enumerate() {
                        if r.effect == effect && others(r) == *g && r.mean.is_finite() {
                            pts.push((xs[i], 100.0 * r.mean));
                            if r.low.is_finite() && r.high.is_finite() {
                                panel.intervals.push(Interval {
                                    color,
                                    x: xs[i],
                                    low: 100.0 * r.low,
                                    high: 100.0 * r.high,
                                });
                            }
                        }
                    }
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let label = if g.is_empty() { "mean over replicates".to_string() } else { g.clone() };
                    panel.lines.push(Line { label: Some(label), color, dashed: false, points: pts });
                }
                if panel.lines.iter().any(|l| !l.points.is_empty()) {
                    panels.push(panel);
                }
            }
        }
        if panels.is_empty() {
            skipped
                .push(Skipped { file: file.clone(), reason: "summary.csv has no headline effect with a value".into() });
            continue;
        }
        charts.push(Chart {
            file,
            title: format!("Headline effects against {param}"),
            note: "mean over complete replicates; bars: 95% interval (Student's t), where there are two or more".into(),
            panels,
            marks: Vec::new(),
            x: XAxis::Values { name: param.clone() },
        });
    }
    Ok((charts, skipped))
}
