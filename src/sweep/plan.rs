//! A planned sweep: the checked sweep file, its base scenario, every point's values and
//! every run's seed, and the files `sweep plan` writes into the sweep directory:
//!
//! - `sweep.toml`: the resolved sweep, itself a sweep file (its base is `base.toml` beside
//!   it), with a `[plan]` table recording where it came from and the base's content hash;
//! - `base.toml`: the base scenario's text as it was, so the directory is self-contained;
//! - `points.csv`: `point, replicate, seed` and one column per parameter, one row per run.
//!
//! Everything is a function of the sweep file and the base scenario's text, so planning
//! twice writes the same bytes.

use super::params::{ParamPath, Resolved};
use super::sample;
use super::spec::{self, Domain, ParamValue, SpecError, SweepSpec};
use super::{SweepError, io_error};
use crate::run::RunOptions;
use crate::scenario::{self, Problem, Scenario, schema};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use toml_edit::DocumentMut;

/// The files of a planned sweep directory.
pub const SWEEP_FILE: &str = "sweep.toml";
pub const BASE_FILE: &str = "base.toml";
pub const POINTS_FILE: &str = "points.csv";

/// At most this many failing points are listed in a plan's error.
const POINTS_REPORTED: usize = 5;

/// The base scenario of a sweep.
#[derive(Debug, Clone)]
pub struct Base {
    /// Its text, byte for byte.
    pub text: String,
    /// Where it was read (a path, or `<embedded NAME>`).
    pub origin: String,
    /// As the sweep file named it.
    pub label: String,
    pub hash: String,
    doc: DocumentMut,
    /// The base as checked (before any parameter is applied).
    pub scenario: Scenario,
}

/// How much [`Plan::from_text`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A new plan: every value alone and every point, by the scenario validator.
    Everything,
    /// A planned directory's sweep.toml: its points were checked when it was planned (its
    /// points.csv and base hash are compared instead).
    Planned,
}

/// One run of a sweep: a replicate of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunId {
    /// Its place in the sweep's order (point-major), which shards are cut from.
    pub index: usize,
    pub point: usize,
    pub replicate: u32,
    pub seed: u64,
}

impl RunId {
    /// `point=P/replicate=R`: the run's directory under `runs/` (hive-style, so that
    /// readers of partitioned datasets see point and replicate as columns).
    pub fn dir_name(&self) -> PathBuf {
        PathBuf::from(format!("point={}", self.point)).join(format!("replicate={}", self.replicate))
    }
}

/// A planned sweep.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: SweepSpec,
    /// The sweep file it was planned from (absolute), when it was a file, and the content
    /// hash of its text then.
    pub source: Option<PathBuf>,
    pub source_hash: Option<String>,
    pub base: Base,
    pub root_seed: u64,
    /// The parameters' paths checked against the base file, in the file's order.
    pub params: Vec<Resolved>,
    /// One row per point, one value per parameter.
    pub points: Vec<Vec<ParamValue>>,
}

impl Plan {
    /// Plans the sweep file at `path`, checking every value and point.
    pub fn from_file(path: &Path) -> Result<Plan, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SweepError::Usage(format!(
                "{}: cannot read the sweep file ({e}); give the path of a sweep file (TOML)",
                path.display()
            ))
        })?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        Plan::from_text(&text, &path.display().to_string(), &absolute, &stem, Check::Everything)
    }

    /// Plans sweep text read from `file` (its base is relative to the file's directory).
    /// With [`Check::Everything`] it is a new plan, from `file`; with [`Check::Planned`]
    /// it is `DIR/sweep.toml`, whose points were checked when it was planned.
    pub fn from_text(
        text: &str,
        origin: &str,
        file: &Path,
        default_name: &str,
        check: Check,
    ) -> Result<Plan, SweepError> {
        let mut spec = spec::parse(text, origin, default_name)?;
        let fail = |problems: Vec<Problem>| SweepError::Spec(SpecError { origin: origin.to_string(), problems });
        let dir = file.parent().unwrap_or(Path::new("."));
        let base = load_base(&spec, dir).map_err(|p| match p {
            BaseError::Problem(p) => fail(vec![p]),
            BaseError::Scenario(e) => SweepError::Scenario(e),
        })?;
        let mut problems = Vec::new();
        let mut params = Vec::new();
        for p in &spec.parameters {
            let label = format!("parameters.\"{}\"", p.path);
            let resolved = ParamPath::parse(&p.path).and_then(|path| path.resolve(&base.doc));
            match resolved {
                Ok(r) => params.push(r),
                Err(message) => problems.push(Problem { path: label, position: p.position, message }),
            }
        }
        for (i, a) in params.iter().enumerate() {
            if let Some(b) = params[..i].iter().find(|b| a.overlaps(b)) {
                let p = &spec.parameters[i];
                problems.push(Problem {
                    path: format!("parameters.\"{}\"", p.path),
                    position: p.position,
                    message: format!(
                        "sets {}, which another parameter already sets ({}); sweep each field once",
                        a.field, b.field
                    ),
                });
            }
        }
        for (p, r) in spec.parameters.iter_mut().zip(&params) {
            // A range is typed by its field: whole-number bounds on a number field give numbers.
            if let Domain::Range { bounds, .. } = &mut p.domain
                && let spec::Bounds::Int(lo, hi) = *bounds
                && schema::kind(&schema::shape_of(&r.field)) == schema::Kind::Number
            {
                *bounds = spec::Bounds::Float(lo as f64, hi as f64);
            }
            if let Err(message) = spec::check_steps(&p.domain) {
                problems.push(Problem { path: format!("parameters.\"{}\"", p.path), position: p.position, message });
            }
        }
        let root_seed = spec.seed.unwrap_or(base.scenario.seed);
        if spec.seeds == spec::SeedMode::Common && root_seed > i64::MAX as u64 - (spec.replicates as u64 - 1) {
            problems.push(Problem {
                path: "seed".into(),
                position: None,
                message: format!(
                    "the root seed {root_seed} (the base scenario's) leaves no room for {} replicates below 2^63; set `seed`",
                    spec.replicates
                ),
            });
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        let (source, source_hash) = match check {
            Check::Everything => (Some(file.to_path_buf()), Some(scenario::content_hash(text))),
            Check::Planned => match &spec.planned {
                Some(p) => (p.source.as_ref().map(PathBuf::from), p.source_hash.clone()),
                None => (None, None),
            },
        };
        let points = sample::design(&spec, root_seed);
        let plan = Plan { spec, source, source_hash, base, root_seed, params, points };
        if check == Check::Everything {
            plan.check_values().map_err(fail)?;
        }
        Ok(plan)
    }

    /// Reads the planned sweep in `dir`, checking that its points are still the ones this
    /// tradesim plans from its `sweep.toml` and `base.toml`.
    pub fn load(dir: &Path) -> Result<Plan, SweepError> {
        let file = dir.join(SWEEP_FILE);
        if !file.is_file() {
            let why = if dir.is_dir() { "has no sweep.toml" } else { "is not a directory" };
            return Err(SweepError::Usage(format!(
                "{} {why}: it is not a planned sweep; plan one with `tradesim sweep plan SWEEP_FILE --out {}`",
                dir.display(),
                dir.display()
            )));
        }
        let text = std::fs::read_to_string(&file).map_err(io_error(&file))?;
        let absolute = std::path::absolute(&file).unwrap_or(file.clone());
        let plan = Plan::from_text(&text, &file.display().to_string(), &absolute, "", Check::Planned)?;
        if plan.spec.planned.is_none() {
            return Err(SweepError::Usage(format!(
                "{} has no [plan] table: it was not written by `tradesim sweep plan`; plan the sweep file with `tradesim sweep plan {} --out DIR`",
                file.display(),
                file.display()
            )));
        }
        let planned_hash = plan.spec.planned.as_ref().map_or("", |p| p.base_hash.as_str());
        if planned_hash != plan.base.hash {
            return Err(SweepError::Usage(format!(
                "{} has changed since the sweep was planned (content hash {planned_hash} then, {} now); plan the sweep again into a new directory",
                dir.join(BASE_FILE).display(),
                plan.base.hash
            )));
        }
        let points_file = dir.join(POINTS_FILE);
        let recorded = std::fs::read_to_string(&points_file).map_err(io_error(&points_file))?;
        if recorded != plan.points_csv() {
            return Err(SweepError::Usage(format!(
                "{} is not what {} plans from {} (edited by hand, or planned by another tradesim version); plan the sweep again into a new directory",
                points_file.display(),
                crate::VERSION,
                file.display()
            )));
        }
        Ok(plan)
    }

    /// Every run, point by point, replicates in order.
    pub fn runs(&self) -> Vec<RunId> {
        let replicates = self.spec.replicates;
        (0..self.points.len())
            .flat_map(|point| (0..replicates).map(move |replicate| (point, replicate)))
            .enumerate()
            .map(|(index, (point, replicate))| RunId {
                index,
                point,
                replicate,
                seed: sample::run_seed(self.spec.seeds, self.root_seed, point as u64, replicate),
            })
            .collect()
    }

    /// The scenario text of `point` with `seed`: the base file with the point's values set.
    pub fn scenario_text(&self, point: usize, seed: u64) -> String {
        let mut doc = self.base.doc.clone();
        for (param, value) in self.params.iter().zip(&self.points[point]) {
            param.set(&mut doc, value.to_toml());
        }
        set_top_level(&mut doc, "seed", toml_edit::Value::from(seed as i64));
        doc.to_string()
    }

    /// The checked scenario of `run`; `origin` names it in errors.
    pub fn scenario(&self, run: &RunId, origin: &str) -> Result<(String, Scenario), scenario::ScenarioError> {
        let text = self.scenario_text(run.point, run.seed);
        let sc = scenario::parse(&text, origin)?;
        Ok((text, sc))
    }

    /// How to run `scenario` (one of this sweep's) into `out`.
    pub fn run_options(&self, scenario: &Scenario, out: PathBuf, threads: usize) -> RunOptions {
        let scale = match self.spec.size {
            Some(size) => size.scale_for(scenario.agent_counts().0),
            None => self.spec.scale.unwrap_or(1.0),
        };
        RunOptions {
            out,
            seed: None,
            threads: Some(threads),
            ticks: self.spec.ticks,
            counterfactual: true,
            force: false,
            scale,
            scenario_source: "scenario.toml".into(),
            format: crate::output::series::Format::Csv,
            checkpoint_every: None,
            stop: None,
        }
    }

    /// The parameters' paths as written, in order: points.csv's columns after the seed.
    pub fn param_names(&self) -> Vec<&str> {
        self.spec.parameters.iter().map(|p| p.path.as_str()).collect()
    }

    /// Checks each parameter's values on the base alone (so a bad value is named), then
    /// every point, with the scenario validator and the run's overrides.
    fn check_values(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        for (i, p) in self.spec.parameters.iter().enumerate() {
            let candidates = match &p.domain {
                Domain::Values(v) => v.clone(),
                Domain::Range { .. } if self.spec.method == spec::Method::Grid => sample::grid_values(&p.domain),
                Domain::Range { bounds, .. } => {
                    let (lo, hi) = match *bounds {
                        spec::Bounds::Int(a, b) => (ParamValue::Int(a), ParamValue::Int(b)),
                        spec::Bounds::Float(a, b) => (ParamValue::Float(a), ParamValue::Float(b)),
                        spec::Bounds::Date(a, b) => (ParamValue::Date(a), ParamValue::Date(b)),
                    };
                    vec![lo, hi]
                }
            };
            for value in candidates {
                let mut doc = self.base.doc.clone();
                self.params[i].set(&mut doc, value.to_toml());
                if let Err(e) = self.check_text(&doc.to_string()) {
                    problems.push(Problem {
                        path: format!("parameters.\"{}\"", p.path),
                        position: p.position,
                        message: format!("the value {} gives an invalid scenario: {e}", value.cell()),
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let failing: Vec<(usize, String)> = (0..self.points.len())
            .into_par_iter()
            .filter_map(|point| self.check_text(&self.scenario_text(point, self.root_seed)).err().map(|e| (point, e)))
            .collect();
        if let Some((_, _)) = failing.first() {
            let mut message = format!(
                "{} of {} points give an invalid scenario (each value is valid alone; together they are not)",
                failing.len(),
                self.points.len()
            );
            for (point, e) in failing.iter().take(POINTS_REPORTED) {
                let values: Vec<String> = self
                    .param_names()
                    .iter()
                    .zip(&self.points[*point])
                    .map(|(name, v)| format!("{name} = {}", v.cell()))
                    .collect();
                message.push_str(&format!("\n    point {point} ({}): {e}", values.join(", ")));
            }
            let position = self.spec.parameters.first().and_then(|p| p.position);
            problems.push(Problem { path: "parameters".into(), position, message });
            return Err(problems);
        }
        Ok(())
    }

    /// The validator's problems and the overrides' refusal, on one line each.
    fn check_text(&self, text: &str) -> Result<(), String> {
        let sc = scenario::parse(text, &self.base.origin).map_err(|e| {
            e.problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; ")
        })?;
        let opts = self.run_options(&sc, PathBuf::new(), 1);
        crate::run::apply_overrides(sc, &opts).map(|_| ()).map_err(|e| e.to_string())
    }

    /// `sweep.toml`: the resolved sweep, which `sweep run` and `sweep collect` read back.
    pub fn sweep_toml(&self) -> String {
        use toml_edit::{Array, InlineTable, Item, Table, Value, value};
        let s = &self.spec;
        let mut doc = DocumentMut::new();
        doc["name"] = value(s.name.as_str());
        doc["base"] = value(BASE_FILE);
        if let Some(scale) = s.scale {
            doc["scale"] = value(scale);
        }
        if let Some(size) = s.size {
            doc["size"] = value(size.name());
        }
        if let Some(ticks) = s.ticks {
            doc["ticks"] = value(ticks as i64);
        }
        doc["seed"] = value(self.root_seed as i64);
        doc["replicates"] = value(s.replicates as i64);
        doc["seeds"] = value(s.seeds.name());
        let mut sample = Table::new();
        sample["method"] = value(s.method.name());
        if let Some(points) = s.points {
            sample["points"] = value(points as i64);
        }
        doc["sample"] = Item::Table(sample);
        let mut parameters = Table::new();
        for p in &s.parameters {
            let v: Value = match &p.domain {
                Domain::Values(values) => Value::Array(values.iter().map(ParamValue::to_toml).collect::<Array>()),
                Domain::Range { bounds, steps } => {
                    let mut t = InlineTable::new();
                    let (lo, hi) = match *bounds {
                        spec::Bounds::Int(a, b) => (Value::from(a), Value::from(b)),
                        spec::Bounds::Float(a, b) => (Value::from(a), Value::from(b)),
                        spec::Bounds::Date(a, b) => (ParamValue::Date(a).to_toml(), ParamValue::Date(b).to_toml()),
                    };
                    t.insert("min", lo);
                    t.insert("max", hi);
                    if let Some(steps) = steps {
                        t.insert("steps", Value::from(*steps as i64));
                    }
                    Value::InlineTable(t)
                }
            };
            parameters.insert(&p.path, Item::Value(v));
        }
        doc["parameters"] = Item::Table(parameters);
        let mut plan = Table::new();
        if let Some(source) = &self.source {
            plan["source"] = value(source.display().to_string());
        }
        if let Some(hash) = &self.source_hash {
            plan["source_hash"] = value(hash.as_str());
        }
        plan["base"] = value(self.base.label.as_str());
        plan["base_hash"] = value(self.base.hash.as_str());
        plan["points"] = value(self.points.len() as i64);
        plan["runs"] = value(self.points.len() as i64 * s.replicates as i64);
        plan["tradesim_version"] = value(crate::VERSION);
        doc["plan"] = Item::Table(plan);
        let header = "# A planned sweep, written by `tradesim sweep plan`: `tradesim sweep run` reads it, with\n\
                      # base.toml (the base scenario as it was) beside it. Plan again rather than edit it.\n";
        format!("{header}{doc}")
    }

    /// `points.csv`: one row per run.
    pub fn points_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["point".to_string(), "replicate".into(), "seed".into()];
        header.extend(self.param_names().iter().map(|s| s.to_string()));
        w.write_record(&header).expect("writing to memory");
        for run in self.runs() {
            let mut row = vec![run.point.to_string(), run.replicate.to_string(), run.seed.to_string()];
            row.extend(self.points[run.point].iter().map(ParamValue::cell));
            w.write_record(&row).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 cells")
    }

    /// Writes `sweep.toml`, `base.toml` and `points.csv` into `dir` (each atomically).
    pub fn write(&self, dir: &Path) -> Result<(), SweepError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let write =
            |name: &str, bytes: &[u8]| crate::output::write_atomic(&dir.join(name), bytes).map_err(SweepError::from);
        write(BASE_FILE, self.base.text.as_bytes())?;
        write(POINTS_FILE, self.points_csv().as_bytes())?;
        // Last: a directory with a sweep.toml is a planned sweep.
        write(SWEEP_FILE, self.sweep_toml().as_bytes())
    }
}

/// Sets a top-level key, keeping its comment; a new key goes before the first table.
fn set_top_level(doc: &mut DocumentMut, key: &str, mut value: toml_edit::Value) {
    if let Some(old) = doc.get(key).and_then(toml_edit::Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    doc.insert(key, toml_edit::Item::Value(value));
}

enum BaseError {
    Problem(Problem),
    Scenario(scenario::ScenarioError),
}

/// Reads the base scenario: a file relative to `dir`, or an embedded scenario.
/// A base scenario's text and where it was read: the file `base` relative to `dir`, or
/// the embedded scenario of that name.
pub fn base_text(base: &str, dir: &Path) -> Result<(String, String), String> {
    let path = dir.join(base);
    if path.is_file() {
        std::fs::read_to_string(&path)
            .map(|text| (text, path.display().to_string()))
            .map_err(|e| format!("cannot read {} ({e})", path.display()))
    } else if let Some(text) = scenario::embedded(base) {
        Ok((text.to_string(), format!("<embedded {base}>")))
    } else {
        Err(format!(
            "'{base}' is neither a scenario file (no file {}) nor an embedded scenario; embedded: {}",
            path.display(),
            scenario::embedded_names().join(", ")
        ))
    }
}

fn load_base(spec: &SweepSpec, dir: &Path) -> Result<Base, BaseError> {
    let (text, origin) = base_text(&spec.base, dir).map_err(|message| {
        BaseError::Problem(Problem { path: "base".into(), position: spec.base_position, message })
    })?;
    let scenario = scenario::parse(&text, &origin).map_err(BaseError::Scenario)?;
    let doc: DocumentMut = text.parse().expect("a scenario that validates is TOML");
    let label = spec.planned.as_ref().map_or(spec.base.clone(), |p| p.base.clone());
    let hash = scenario::content_hash(&text);
    Ok(Base { text, origin, label, hash, doc, scenario })
}
