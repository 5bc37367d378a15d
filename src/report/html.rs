//! report.html: one self-contained page (charts embedded as data: URIs, no scripts or
//! styles from the network) with the scenario's name and description, the run's facts,
//! the headline effects, the policy timeline and the charts.

use super::chart::Chart;
use super::{ReportError, RunDir, Skipped};
use crate::effects;
use base64::Engine;
use std::fmt::Write;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(x: f64) -> String {
    if x.is_finite() { format!("{:.1}%", 100.0 * x) } else { "-".into() }
}

/// The policy timeline: policy.csv's changes, one row per date, government, partner,
/// instrument, old and new rate and cause, its sectors joined.
fn timeline(run: &RunDir) -> Vec<[String; 6]> {
    let t = &run.scenario.policy;
    let mut rows: Vec<([String; 6], String)> = Vec::new();
    for i in 0..t.rows {
        let instrument = &t.text("instrument")[i];
        let change = format!("{} → {}", pct(t.num("old_rate")[i]), pct(t.num("new_rate")[i]));
        let what = if instrument == "tariff" { change } else { format!("{instrument} {change}") };
        let key = [
            t.text("date")[i].clone(),
            t.text("government")[i].clone(),
            t.text("partner")[i].clone(),
            String::new(),
            what,
            t.text("cause")[i].clone(),
        ];
        let sector = t.text("sector")[i].clone();
        // Rows of one date are adjacent (policy.csv is in tick order): join the sectors
        // of the same change among them.
        let same = rows
            .iter_mut()
            .rev()
            .take_while(|(r, _)| r[0] == key[0])
            .find(|(r, _)| r[1..3] == key[1..3] && r[4..] == key[4..]);
        match same {
            Some((_, sectors)) => {
                sectors.push_str(", ");
                sectors.push_str(&sector);
            }
            None => rows.push((key, sector)),
        }
    }
    rows.into_iter()
        .map(|(mut row, sectors)| {
            row[3] = sectors;
            row
        })
        .collect()
}

fn table(out: &mut String, heading: &[String], rows: &[Vec<String>], class: &str) {
    let _ = write!(out, "<table class=\"{class}\"><thead><tr>");
    for h in heading {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

const STYLE: &str = "body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}\
h1{margin-bottom:.2em}table{border-collapse:collapse;margin:1em 0;font-size:14px}\
th,td{border:1px solid #ccc;padding:4px 8px}th{background:#f2f2f2}td{text-align:right}\
table.policy td{text-align:left}dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}\
dt{font-weight:bold}img{width:100%;border:1px solid #ddd;margin:.5em 0}.note{color:#555;font-size:14px}";

/// The page. A small script reports a chart that does not decode on the browser's
/// console, so a headless check of the page catches it.
pub fn page(run: &RunDir, charts: &[(Chart, Vec<u8>)], skipped: &[Skipped]) -> Result<String, ReportError> {
    let m = &run.manifest;
    let sc = &m.scenario;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tradesim: {name}</title><style>{STYLE}</style></head><body>\n<h1>{name}</h1>\n<p>{desc}</p>\n",
        name = esc(&sc.name),
        desc = esc(&sc.description)
    );
    let status = serde_json::to_value(m.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let facts = [
        ("status", status),
        ("weeks", format!("{} ({} to {})", m.ticks, m.start_date, m.end_date)),
        ("seed", m.seed.to_string()),
        ("scale", m.scale.to_string()),
        ("counterfactual", if m.counterfactual { "yes".into() } else { "no".into() }),
        ("tradesim", m.tradesim_version.clone()),
        ("scenario hash", sc.content_hash.clone()),
    ];
    out.push_str("<dl>");
    for (k, v) in facts {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    out.push_str("</dl>\n<h2>Headline effects</h2>\n");
    let rows = match &run.effects {
        Some(text) => Some(
            effects::parse_csv(text, sc, |_| true)
                .map_err(|e| ReportError::Input(format!("{}: {e}", run.dir.join("effects.csv").display())))?,
        ),
        None => None,
    };
    match rows.as_ref().and_then(|rows| effects::headline_cells(rows, sc)) {
        Some(cells) => {
            out.push_str(
                "<p class=\"note\">Scenario against counterfactual, 4-week averages ending at each horizon.</p>",
            );
            table(&mut out, &cells[0], &cells[1..], "headline");
            let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(effects::HEADLINE_NOTE));
        }
        None => out.push_str("<p>No effects: the run has no counterfactual or ended before the first horizon.</p>\n"),
    }
    out.push_str("<h2>Policy timeline</h2>\n");
    let policy = timeline(run);
    if policy.is_empty() {
        out.push_str("<p>No tariff or boycott changed in this run.</p>\n");
    } else {
        let heading: Vec<String> =
            ["date", "government", "partner", "sectors", "rate (old → new)", "cause"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = policy.into_iter().map(|r| r.to_vec()).collect();
        table(&mut out, &heading, &rows, "policy");
    }
    out.push_str("<h2>Charts</h2>\n");
    for (chart, png) in charts {
        let data = base64::engine::general_purpose::STANDARD.encode(png);
        let _ = writeln!(out, "<img alt=\"{}\" src=\"data:image/png;base64,{data}\">", esc(&chart.title));
    }
    for s in skipped {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&s.to_string()));
    }
    out.push_str(
        "<script>window.addEventListener('load',function(){for(const i of document.images){if(!i.complete||i.naturalWidth===0){console.error('chart did not load: '+i.alt);}}});</script>\n</body></html>\n",
    );
    Ok(out)
}
