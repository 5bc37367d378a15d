//! The sweep file (TOML) as checked: the base scenario, the run overrides, seeds and
//! replicates, the sampler and the parameters with their values or ranges.
//!
//! Every problem of a file is reported at once, each with its line, column and key, and
//! what would be accepted there (as the scenario validator reports a scenario file's).
//! Parameter paths are only parsed here; [`super::params`] checks them against the
//! scenario's schema and the base file.

use crate::calendar::Date;
use crate::profile::SizePreset;
use crate::scenario::{Problem, position_of_offset};
use std::fmt;
use toml_edit::{Item, Value};

/// A sweep file's problems.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SpecError {
    /// The file.
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::scenario::write_problems(f, &self.origin, &self.problems)
    }
}

/// How each run's seed is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedMode {
    /// Replicate r of every point runs with seed `seed + r`: common random numbers across
    /// points, so that differences between points are not sampling noise.
    Common,
    /// Every (point, replicate) gets a seed of its own, derived from the root seed.
    Independent,
}

impl SeedMode {
    pub fn name(self) -> &'static str {
        match self {
            SeedMode::Common => "common",
            SeedMode::Independent => "independent",
        }
    }
}

/// The experimental design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every combination of the parameters' values (ranges need `steps`).
    Grid,
    /// `points` independent uniform draws.
    Random,
    /// A Latin hypercube of `points`: each parameter's range cut into `points` equal
    /// strata, one point in each.
    Lhs,
    /// The first `points` points of the Sobol' sequence (Joe & Kuo's direction numbers).
    Sobol,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Grid, Method::Random, Method::Lhs, Method::Sobol];

    pub fn name(self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::Random => "random",
            Method::Lhs => "lhs",
            Method::Sobol => "sobol",
        }
    }
}

/// One value a parameter takes: what a scenario key can hold.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(Date),
    Str(String),
    /// An array or inline table, as TOML text (`["ELEC", "SEMI"]`).
    Toml(String),
}

impl ParamValue {
    /// The value as TOML, to set in a scenario file.
    pub fn to_toml(&self) -> Value {
        match self {
            ParamValue::Int(i) => Value::from(*i),
            ParamValue::Float(x) => Value::from(*x),
            ParamValue::Bool(b) => Value::from(*b),
            ParamValue::Str(s) => Value::from(s.as_str()),
            ParamValue::Date(d) => d.to_string().parse().expect("an ISO date is a TOML value"),
            ParamValue::Toml(text) => text.parse().expect("kept as the text of a TOML value"),
        }
    }

    /// The value in a CSV cell: numbers as the shortest text that reads back the same,
    /// dates as ISO dates, strings as they are, arrays and tables as TOML.
    pub fn cell(&self) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(x) => crate::output::fmt_f64(*x),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Date(d) => d.to_string(),
            ParamValue::Str(s) => s.clone(),
            ParamValue::Toml(text) => text.clone(),
        }
    }

    fn from_toml(value: &Value) -> Result<ParamValue, String> {
        Ok(match value {
            Value::Integer(i) => ParamValue::Int(*i.value()),
            Value::Float(x) if x.value().is_finite() => ParamValue::Float(*x.value()),
            Value::Float(x) => return Err(format!("{} is not accepted; give a finite number", x.value())),
            Value::Boolean(b) => ParamValue::Bool(*b.value()),
            Value::String(s) => ParamValue::Str(s.value().clone()),
            Value::Datetime(d) => {
                let d = d.value();
                match (d.date, d.time, d.offset) {
                    (Some(date), None, None) => Date::from_ymd(date.year as i64, date.month as u32, date.day as u32)
                        .map(ParamValue::Date)
                        .ok_or_else(|| format!("{date} is not a calendar date"))?,
                    _ => return Err(format!("{d} is not accepted; give a date such as 2025-05-12, without a time")),
                }
            }
            Value::Array(_) | Value::InlineTable(_) => {
                let mut bare = value.clone();
                bare.decor_mut().clear();
                ParamValue::Toml(bare.to_string())
            }
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "a whole number",
            ParamValue::Float(_) => "a number",
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Date(_) => "a date",
            ParamValue::Str(_) => "a string",
            ParamValue::Toml(_) => "an array or table",
        }
    }
}

/// The bounds of a range: numbers (whole numbers when both bounds are) or dates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    Int(i64, i64),
    Float(f64, f64),
    Date(Date, Date),
}

/// The values a parameter may take.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// These values, in this order.
    Values(Vec<ParamValue>),
    /// Between two bounds (both included); `steps` evenly spaced values for a grid.
    Range { bounds: Bounds, steps: Option<u32> },
}

/// One swept parameter as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The path into the scenario as written (`rules[0].cap`, `events["Geneva truce"].effective`).
    pub path: String,
    pub domain: Domain,
    /// Line and column of the parameter's key in the sweep file.
    pub position: Option<(usize, usize)>,
}

/// What `sweep plan` recorded of where a planned sweep came from (the `[plan]` table of
/// `DIR/sweep.toml`; a user's sweep file has none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Planned {
    /// The sweep file it was planned from (absolute), if it was a file.
    pub source: Option<String>,
    /// The content hash of that file's text when it was planned.
    pub source_hash: Option<String>,
    /// The base scenario as the sweep file named it.
    pub base: String,
    /// The base scenario's content hash when it was planned.
    pub base_hash: String,
}

/// A checked sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    pub name: String,
    /// An embedded scenario name, or a path relative to the sweep file.
    pub base: String,
    /// Line and column of `base` in the file.
    pub base_position: Option<(usize, usize)>,
    pub scale: Option<f64>,
    pub size: Option<SizePreset>,
    pub ticks: Option<u32>,
    /// The root seed; `None` = the base scenario's own seed.
    pub seed: Option<u64>,
    pub replicates: u32,
    pub seeds: SeedMode,
    pub method: Method,
    /// Points to draw (random, lhs, sobol).
    pub points: Option<u32>,
    pub parameters: Vec<Parameter>,
    pub planned: Option<Planned>,
}

/// The most points a design may have, and the most replicates of each.
pub const MAX_POINTS: u64 = 1_000_000;
pub const MAX_REPLICATES: i64 = 10_000;
/// Sobol' points come from Joe & Kuo's direction numbers for up to this many dimensions.
pub const MAX_SOBOL_PARAMETERS: usize = 1000;

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "base",
    "scale",
    "size",
    "ticks",
    "seed",
    "replicates",
    "seeds",
    "sample",
    "parameters",
    "plan",
];
const SAMPLE_KEYS: &[&str] = &["method", "points"];
const RANGE_KEYS: &[&str] = &["min", "max", "steps"];
const PLAN_KEYS: &[&str] = &["source", "source_hash", "base", "base_hash", "points", "runs", "tradesim_version"];

/// The accepted name nearest to `name`, when one is near enough to be a likely typo.
pub fn nearest<'a>(name: &str, accepted: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    accepted
        .into_iter()
        .map(|a| (strsim::damerau_levenshtein(name, a), a))
        .filter(|&(d, a)| d <= 2.max(a.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, a)| a)
}

/// "unknown key 'x'; did you mean 'y'? accepted here: ..."
pub fn unknown(what: &str, name: &str, accepted: &[&str]) -> String {
    unknown_in(what, name, "", accepted)
}

/// "unknown key 'x' in PLACE; did you mean 'y'? accepted there: ..."
pub fn unknown_in(what: &str, name: &str, place: &str, accepted: &[&str]) -> String {
    let hint = nearest(name, accepted.iter().copied()).map(|n| format!("did you mean '{n}'? ")).unwrap_or_default();
    let (place, here) = if place.is_empty() { (String::new(), "here") } else { (format!(" in {place}"), "there") };
    format!("unknown {what} '{name}'{place}; {hint}accepted {here}: {}", accepted.join(", "))
}

struct Reader<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn at(&self, span: Option<std::ops::Range<usize>>) -> Option<(usize, usize)> {
        span.map(|s| position_of_offset(self.text, s.start))
    }

    fn problem(&mut self, path: &str, span: Option<std::ops::Range<usize>>, message: impl Into<String>) {
        let position = self.at(span);
        self.problems.push(Problem { path: path.to_string(), position, message: message.into() });
    }

    fn string(&mut self, key: &str, item: &Item) -> Option<String> {
        match item.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.problem(key, item.span(), format!("expected a string, found {}", item.type_name()));
                None
            }
        }
    }

    fn integer(&mut self, key: &str, item: &Item, lo: i64, hi: i64) -> Option<i64> {
        match item.as_integer() {
            Some(i) if (lo..=hi).contains(&i) => Some(i),
            Some(i) => {
                self.problem(
                    key,
                    item.span(),
                    format!("{i} is not accepted; expected a whole number from {lo} to {hi}"),
                );
                None
            }
            None => {
                self.problem(
                    key,
                    item.span(),
                    format!("expected a whole number from {lo} to {hi}, found {}", item.type_name()),
                );
                None
            }
        }
    }

    /// Unknown keys of a table, each reported with the nearest accepted one.
    fn keys(&mut self, prefix: &str, table: &dyn toml_edit::TableLike, accepted: &[&str]) {
        for (key, _) in table.iter() {
            if !accepted.contains(&key) {
                let span = table.key(key).and_then(|k| k.span());
                self.problem(&format!("{prefix}{key}"), span, unknown("key", key, accepted));
            }
        }
    }
}

/// Parses and checks a sweep file's text; `origin` names it in errors, `default_name` is
/// the sweep's name when the file gives none (its file stem).
pub fn parse(text: &str, origin: &str, default_name: &str) -> Result<SweepSpec, SpecError> {
    let fail = |problems| SpecError { origin: origin.to_string(), problems };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        fail(vec![Problem {
            path: String::new(),
            position: e.span().map(|s| position_of_offset(text, s.start)),
            message: e.message().trim().to_string(),
        }])
    })?;
    let root = doc.as_table();
    let mut r = Reader { text, problems: Vec::new() };
    r.keys("", root, TOP_KEYS);

    let name = match root.get("name") {
        None => default_name.to_string(),
        Some(item) => r.string("name", item).unwrap_or_default(),
    };
    if !name.is_empty() && !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        r.problem(
            "name",
            root.get("name").and_then(Item::span),
            format!("'{name}' is not accepted; use letters, digits, '_' or '-'"),
        );
    }
    if let Some(item) = root.get("description") {
        r.string("description", item);
    }
    let base = match root.get("base") {
        Some(item) => r.string("base", item).unwrap_or_default(),
        None => {
            let names = crate::scenario::embedded_names().join(", ");
            r.problem("base", None, format!("missing; name the scenario to sweep: a path relative to this file, or one of the embedded scenarios: {names}"));
            String::new()
        }
    };
    let scale = root.get("scale").and_then(|item| match item.as_float().or(item.as_integer().map(|i| i as f64)) {
        Some(x) if x.is_finite() && x > 0.0 && x <= 1000.0 => Some(x),
        Some(x) => {
            r.problem(
                "scale",
                item.span(),
                format!(
                    "{x} is not accepted; expected a number > 0 and at most 1000 (1 = the scenario's own agent counts)"
                ),
            );
            None
        }
        None => {
            r.problem("scale", item.span(), format!("expected a number, found {}", item.type_name()));
            None
        }
    });
    let size = root.get("size").and_then(|item| {
        let s = r.string("size", item)?;
        let found = SizePreset::ALL.into_iter().find(|p| p.name() == s);
        if found.is_none() {
            r.problem("size", item.span(), format!("'{s}' is not accepted; expected one of: small, medium, large"));
        }
        found
    });
    if scale.is_some() && size.is_some() {
        r.problem("size", root.get("size").and_then(Item::span), "give either scale or size, not both");
    }
    let ticks = root.get("ticks").and_then(|item| r.integer("ticks", item, 1, 100_000)).map(|t| t as u32);
    let seed = root.get("seed").and_then(|item| r.integer("seed", item, 0, i64::MAX)).map(|s| s as u64);
    let replicates = root.get("replicates").map_or(Some(1), |item| r.integer("replicates", item, 1, MAX_REPLICATES));
    let replicates = replicates.unwrap_or(1) as u32;
    if let (Some(seed), Some(item)) = (seed, root.get("seed"))
        && seed > (i64::MAX as u64) - (replicates as u64 - 1)
    {
        r.problem(
            "seed",
            item.span(),
            format!(
                "{seed} is not accepted; with {replicates} replicates the seeds seed … seed + {} must stay below 2^63",
                replicates - 1
            ),
        );
    }
    let seeds = match root.get("seeds") {
        None => SeedMode::Common,
        Some(item) => match r.string("seeds", item).as_deref() {
            Some("common") | None => SeedMode::Common,
            Some("independent") => SeedMode::Independent,
            Some(other) => {
                r.problem("seeds", item.span(), format!("'{other}' is not accepted; expected \"common\" (replicate r of every point uses seed + r) or \"independent\" (a seed per point and replicate)"));
                SeedMode::Common
            }
        },
    };

    let (method, points) = sample(&mut r, root.get("sample"));
    let parameters = parameters(&mut r, root.get("parameters"), method);
    if method != Method::Grid && parameters.is_empty() && r.problems.is_empty() {
        let span = root.get("parameters").or(root.get("sample")).and_then(Item::span);
        r.problem("parameters", span, format!("none; method = \"{}\" draws values of parameters: give at least one (replicates of the base alone are a grid without parameters)", method.name()));
    }
    if method == Method::Sobol && parameters.len() > MAX_SOBOL_PARAMETERS {
        r.problem(
            "parameters",
            None,
            format!("{} parameters; method = \"sobol\" takes at most {MAX_SOBOL_PARAMETERS}", parameters.len()),
        );
    }
    if method == Method::Grid {
        let mut total: u64 = 1;
        for p in &parameters {
            let n = match &p.domain {
                Domain::Values(v) => v.len() as u64,
                Domain::Range { steps, .. } => steps.unwrap_or(1) as u64,
            };
            total = total.saturating_mul(n);
        }
        if total > MAX_POINTS {
            r.problem("parameters", None, format!("the grid has {total} points; at most {MAX_POINTS} are accepted (use fewer values, or method = \"lhs\" or \"sobol\" with points = N)"));
        }
    }
    let planned = root.get("plan").map(|item| plan(&mut r, item));
    let base_position = r.at(root.get("base").and_then(Item::span));
    let problems = r.problems;
    if !problems.is_empty() {
        let mut problems = problems;
        problems.sort_by_key(|p| p.position.unwrap_or((usize::MAX, 0)));
        return Err(fail(problems));
    }
    Ok(SweepSpec {
        name,
        base,
        base_position,
        scale,
        size,
        ticks,
        seed,
        replicates,
        seeds,
        method,
        points,
        parameters,
        planned,
    })
}

fn sample(r: &mut Reader, item: Option<&Item>) -> (Method, Option<u32>) {
    let Some(item) = item else { return (Method::Grid, None) };
    let Some(table) = item.as_table_like() else {
        r.problem(
            "sample",
            item.span(),
            format!("expected a table ([sample] with method and points), found {}", item.type_name()),
        );
        return (Method::Grid, None);
    };
    r.keys("sample.", table, SAMPLE_KEYS);
    let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
    let method = match table.get("method") {
        None => Method::Grid,
        Some(m) => match r.string("sample.method", m) {
            None => Method::Grid,
            Some(s) => match Method::ALL.into_iter().find(|m| m.name() == s) {
                Some(m) => m,
                None => {
                    r.problem("sample.method", m.span(), unknown("sampler", &s, &names));
                    Method::Grid
                }
            },
        },
    };
    let points =
        table.get("points").and_then(|p| r.integer("sample.points", p, 1, MAX_POINTS as i64)).map(|p| p as u32);
    match (method, table.get("points")) {
        (Method::Grid, Some(p)) => r.problem(
            "sample.points",
            p.span(),
            "not used by method = \"grid\" (a grid's points are every combination of its parameters' values); remove it, or choose random, lhs or sobol",
        ),
        (m, None) if m != Method::Grid => {
            r.problem("sample.points", table.key("method").and_then(|k| k.span()), format!("missing; method = \"{}\" needs the number of points to draw, e.g. points = 256", m.name()))
        }
        _ => {}
    }
    (method, points)
}

fn parameters(r: &mut Reader, item: Option<&Item>, method: Method) -> Vec<Parameter> {
    let Some(item) = item else { return Vec::new() };
    let Some(table) = item.as_table_like() else {
        r.problem(
            "parameters",
            item.span(),
            format!("expected a table of parameter paths ([parameters]), found {}", item.type_name()),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, value) in table.iter() {
        let key_span = table.key(path).and_then(|k| k.span());
        let label = format!("parameters.\"{path}\"");
        let position = r.at(key_span.clone());
        if let Err(e) = super::params::ParamPath::parse(path) {
            r.problem(&label, key_span.clone(), e);
            continue;
        }
        let domain = if let Some(array) = value.as_array() {
            let mut values = Vec::new();
            for v in array.iter() {
                match ParamValue::from_toml(v) {
                    Ok(pv) if values.iter().any(|v| same_value(v, &pv)) => {
                        r.problem(&label, v.span(), format!("{} is listed twice", pv.cell()))
                    }
                    Ok(pv) => values.push(pv),
                    Err(e) => r.problem(&label, v.span(), e),
                }
            }
            if array.is_empty() {
                r.problem(&label, value.span(), "empty; list at least one value, or give a range { min = …, max = … }");
                continue;
            }
            Domain::Values(values)
        } else if let Some(range) = value.as_table_like() {
            if range.iter().any(|(k, _)| !RANGE_KEYS.contains(&k)) || range.is_dotted() {
                r.problem(
                    &label,
                    key_span,
                    format!(
                        "TOML reads an unquoted dotted key as nested tables; quote the whole path: \"{path}.{}\" = …",
                        range.iter().next().map(|(k, _)| k).unwrap_or("…")
                    ),
                );
                continue;
            }
            match self::range(r, &label, range, method) {
                Some(d) => d,
                None => continue,
            }
        } else {
            r.problem(
                &label,
                value.span(),
                format!("{} is one value, not a sweep; give a list of values [a, b, …] or a range {{ min = …, max = …, steps = … }}", value.type_name()),
            );
            continue;
        };
        out.push(Parameter { path: path.to_string(), domain, position });
    }
    out
}

fn range(r: &mut Reader, label: &str, table: &dyn toml_edit::TableLike, method: Method) -> Option<Domain> {
    r.keys(&format!("{label}."), table, RANGE_KEYS);
    let bound = |r: &mut Reader, key: &str| -> Option<ParamValue> {
        let Some(item) = table.get(key) else {
            r.problem(label, None, format!("{key} missing; a range needs min and max (numbers or dates)"));
            return None;
        };
        let value = item.as_value().and_then(|v| ParamValue::from_toml(v).ok());
        match value {
            Some(v @ (ParamValue::Int(_) | ParamValue::Float(_) | ParamValue::Date(_))) => Some(v),
            other => {
                let found = other.map_or(item.type_name(), |v| v.kind());
                r.problem(
                    &format!("{label}.{key}"),
                    item.span(),
                    format!("expected a number or a date, found {found}"),
                );
                None
            }
        }
    };
    let (min, max) = (bound(r, "min"), bound(r, "max"));
    let steps = table
        .get("steps")
        .and_then(|s| r.integer(&format!("{label}.steps"), s, 1, MAX_POINTS as i64))
        .map(|s| s as u32);
    let span_of = |key: &str| table.get(key).and_then(Item::span);
    match (method, table.get("steps")) {
        (Method::Grid, None) => {
            r.problem(
                label,
                span_of("max"),
                "steps missing; a grid takes `steps` evenly spaced values from min to max (or list the values)",
            );
            return None;
        }
        (m, Some(s)) if m != Method::Grid => {
            r.problem(&format!("{label}.steps"), s.span(), format!("not used by method = \"{}\", which draws values anywhere in the range; remove it, or use method = \"grid\"", m.name()));
            return None;
        }
        _ => {}
    }
    let bounds = match (min?, max?) {
        (ParamValue::Int(a), ParamValue::Int(b)) => Bounds::Int(a, b),
        (ParamValue::Date(a), ParamValue::Date(b)) => Bounds::Date(a, b),
        (a @ (ParamValue::Int(_) | ParamValue::Float(_)), b @ (ParamValue::Int(_) | ParamValue::Float(_))) => {
            let f = |v: ParamValue| match v {
                ParamValue::Int(i) => i as f64,
                ParamValue::Float(x) => x,
                _ => unreachable!("numbers only"),
            };
            Bounds::Float(f(a), f(b))
        }
        (a, b) => {
            r.problem(
                label,
                span_of("min"),
                format!("min is {} and max is {}; both must be numbers or both dates", a.kind(), b.kind()),
            );
            return None;
        }
    };
    let ordered = match bounds {
        Bounds::Int(a, b) => a <= b,
        Bounds::Float(a, b) => a <= b,
        Bounds::Date(a, b) => a <= b,
    };
    if !ordered {
        r.problem(label, span_of("min"), "min > max; give min ≤ max");
        return None;
    }
    let wide = match bounds {
        Bounds::Int(a, b) => (b as i128 - a as i128) as f64,
        Bounds::Float(a, b) => (b - a).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE),
        Bounds::Date(..) => 0.0,
    };
    if matches!(bounds, Bounds::Int(..)) && wide > (1u64 << 53) as f64 {
        r.problem(label, span_of("max"), "the range spans more than 2^53 whole numbers; give a narrower one");
        return None;
    }
    Some(Domain::Range { bounds, steps })
}

/// Checks that a range's grid does not repeat values, once the range is typed by its
/// field (whole-number bounds on a number field are numbers): an error says how many
/// steps the range can take.
pub fn check_steps(domain: &Domain) -> Result<(), String> {
    let Domain::Range { bounds, steps: Some(steps) } = domain else { return Ok(()) };
    let steps = *steps as i128;
    if steps < 2 {
        return Ok(());
    }
    let distinct: Option<i128> = match *bounds {
        Bounds::Int(a, b) => Some(b as i128 - a as i128 + 1),
        Bounds::Date(a, b) => Some(a.days_until(b) as i128 + 1),
        Bounds::Float(a, b) => (a == b).then_some(1),
    };
    match (distinct, bounds) {
        (Some(n), Bounds::Int(a, b)) if steps > n => Err(format!(
            "steps = {steps} between the whole numbers {a} and {b} would repeat values; at most {n} are accepted"
        )),
        (Some(n), Bounds::Date(a, b)) if steps > n => {
            Err(format!("steps = {steps} between {a} and {b} would repeat dates; at most {n} are accepted"))
        }
        (Some(_), Bounds::Float(a, _)) => {
            Err(format!("min = max = {a}: steps = {steps} would repeat it; give steps = 1, or a wider range"))
        }
        _ => Ok(()),
    }
}

/// Whether two listed values are the same value (0 and 0.0 are).
fn same_value(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::Int(i), ParamValue::Float(x)) | (ParamValue::Float(x), ParamValue::Int(i)) => *i as f64 == *x,
        _ => a == b,
    }
}

fn plan(r: &mut Reader, item: &Item) -> Planned {
    let mut planned = Planned::default();
    let Some(table) = item.as_table_like() else {
        r.problem("plan", item.span(), format!("expected the table `sweep plan` writes, found {}", item.type_name()));
        return planned;
    };
    r.keys("plan.", table, PLAN_KEYS);
    planned.source = table.get("source").and_then(|s| r.string("plan.source", s));
    planned.source_hash = table.get("source_hash").and_then(|s| r.string("plan.source_hash", s));
    planned.base = table.get("base").and_then(|s| r.string("plan.base", s)).unwrap_or_default();
    planned.base_hash = table.get("base_hash").and_then(|s| r.string("plan.base_hash", s)).unwrap_or_default();
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match parse(text, "s.toml", "s") {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect(),
        }
    }

    #[test]
    fn reads_the_issue_example() {
        let text = r#"
name = "cap_by_absorption"
base = "endogenous_retaliation"
scale = 0.1
seed = 1
replicates = 3
[sample]
method = "grid"
[parameters]
"behaviour.exporter_absorption" = [0.0, 0.1, 0.3]
"rules[0].cap" = { min = 0.5, max = 1.5, steps = 5 }
"events[3].effective" = [2025-05-12, 2025-08-11]
"#;
        let spec = parse(text, "s.toml", "s").unwrap();
        assert_eq!(spec.replicates, 3);
        assert_eq!(spec.seed, Some(1));
        let paths: Vec<&str> = spec.parameters.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["behaviour.exporter_absorption", "rules[0].cap", "events[3].effective"], "file order");
        assert_eq!(spec.parameters[1].domain, Domain::Range { bounds: Bounds::Float(0.5, 1.5), steps: Some(5) });
        let Domain::Values(dates) = &spec.parameters[2].domain else { panic!() };
        assert_eq!(dates[0].cell(), "2025-05-12");
        assert_eq!(spec.parameters[0].position, Some((10, 1)));
    }

    #[test]
    fn every_mistake_is_reported_with_what_is_accepted() {
        let text = r#"
base = "small"
replicats = 2
seeds = "shared"
[sample]
method = "sobel"
[parameters]
"a.b" = []
"c.d" = { min = 2, max = 1, steps = 3 }
"e.f" = { min = 0.0, max = 1.0, steps = 0 }
"g.h" = 0.5
"i.j" = { min = 0.0, max = 1.0 }
"#;
        let p = problems(text);
        let all = p.join("\n");
        assert!(all.contains("replicats: unknown key 'replicats'; did you mean 'replicates'?"), "{all}");
        assert!(all.contains("seeds: 'shared' is not accepted; expected \"common\""), "{all}");
        assert!(all.contains("sample.method: unknown sampler 'sobel'; did you mean 'sobol'?"), "{all}");
        assert!(all.contains("parameters.\"a.b\": empty"), "{all}");
        assert!(all.contains("min > max"), "{all}");
        assert!(all.contains("steps: 0 is not accepted"), "{all}");
        assert!(all.contains("one value, not a sweep"), "{all}");
        assert!(all.contains("parameters.\"i.j\": steps missing"), "{all}");
        assert_eq!(p.len(), 8, "{all}");
    }

    #[test]
    fn samplers_that_draw_need_points_and_refuse_steps() {
        let p = problems(
            "base = \"small\"\n[sample]\nmethod = \"lhs\"\n[parameters]\n\"x.y\" = { min = 0, max = 1, steps = 2 }\n",
        );
        assert!(p.iter().any(|m| m.starts_with("sample.points: missing")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("steps: not used by method = \"lhs\"")), "{p:?}");
        let p =
            problems("base = \"small\"\n[sample]\nmethod = \"random\"\npoints = 0\n[parameters]\n\"x.y\" = [1, 2]\n");
        assert_eq!(p, ["sample.points: 0 is not accepted; expected a whole number from 1 to 1000000"]);
        let p = problems("base = \"small\"\n[sample]\npoints = 4\n");
        assert!(p[0].starts_with("sample.points: not used by method = \"grid\""), "{p:?}");
    }

    #[test]
    fn grids_that_would_repeat_values_are_refused() {
        let steps = |text: &str| {
            let spec = parse(&format!("base = \"small\"\n[parameters]\n\"x.y\" = {text}\n"), "s.toml", "s").unwrap();
            check_steps(&spec.parameters[0].domain)
        };
        assert!(steps("{ min = 1, max = 3, steps = 4 }").unwrap_err().contains("at most 3 are accepted"));
        assert!(steps("{ min = 1, max = 3, steps = 3 }").is_ok());
        assert!(steps("{ min = 2025-01-01, max = 2025-01-02, steps = 3 }").unwrap_err().contains("would repeat dates"));
        assert!(steps("{ min = 0.5, max = 0.5, steps = 3 }").unwrap_err().contains("would repeat it"));
        let p = problems("base = \"small\"\n[parameters]\n\"x.y\" = { min = 2025-01-01, max = 3.0, steps = 3 }\n");
        assert!(p[0].contains("both must be numbers or both dates"), "{p:?}");
        let p = problems("base = \"small\"\n[parameters]\n\"x.y\" = [0, 0.0]\n");
        assert!(p[0].contains("0 is listed twice"), "{p:?}");
        let p = problems("base = \"small\"\n[parameters]\nbehaviour.hiring_rate = [0.1]\n");
        assert!(p[0].contains("quote the whole path: \"behaviour.hiring_rate\""), "{p:?}");
        let p = problems("base = \"small\"\n[sample]\nmethod = \"sobol\"\npoints = 4\n");
        assert!(p[0].starts_with("parameters: none; method = \"sobol\""), "{p:?}");
    }
}
