//! Experimental designs: grid, random, Latin hypercube and Sobol' points, and each run's
//! seed. Every design is a pure function of the sweep file and its root seed (draws are
//! counter-based, [`crate::rng`]), so planning twice gives the same points.
//!
//! Samplers other than the grid draw a number u in [0, 1) per point and parameter and map
//! it onto the parameter's domain: a range of numbers linearly (rounded to 9 significant
//! digits, so the files stay readable), a range of whole numbers or dates to one of its
//! values with equal chances, a list to one of its items with equal chances.

use super::spec::{Bounds, Domain, Method, ParamValue, SeedMode, SweepSpec};
use crate::rng::{DrawKey, Purpose};

/// The design: one row per point, one value per parameter in the file's order.
pub fn design(spec: &SweepSpec, seed: u64) -> Vec<Vec<ParamValue>> {
    let domains: Vec<&Domain> = spec.parameters.iter().map(|p| &p.domain).collect();
    match spec.method {
        Method::Grid => grid(&domains),
        method => {
            let n = spec.points.unwrap_or(1) as usize;
            let units = match method {
                Method::Random => random_units(n, domains.len(), seed),
                Method::Lhs => latin_hypercube(n, domains.len(), seed),
                Method::Sobol => sobol_units(n, domains.len()),
                Method::Grid => unreachable!("handled above"),
            };
            units.iter().map(|row| row.iter().zip(&domains).map(|(&u, d)| value_at(d, u)).collect()).collect()
        }
    }
}

/// The seed of `replicate` at `point`.
pub fn run_seed(mode: SeedMode, root: u64, point: u64, replicate: u32) -> u64 {
    match mode {
        SeedMode::Common => root + replicate as u64,
        // 63 bits: a scenario file's seed is a TOML integer, which is signed.
        SeedMode::Independent => DrawKey::new(root, point, replicate as u64, Purpose::SweepSeed).u64(0) >> 1,
    }
}

/// Every combination, the first parameter varying slowest.
fn grid(domains: &[&Domain]) -> Vec<Vec<ParamValue>> {
    let axes: Vec<Vec<ParamValue>> = domains.iter().map(|d| grid_values(d)).collect();
    let mut points = vec![Vec::new()];
    for axis in &axes {
        points =
            points.into_iter().flat_map(|p| axis.iter().map(move |v| [p.clone(), vec![v.clone()]].concat())).collect();
    }
    points
}

/// A domain's grid values: a list as written, a range as `steps` evenly spaced values
/// from min to max (just min when steps = 1).
pub fn grid_values(domain: &Domain) -> Vec<ParamValue> {
    match domain {
        Domain::Values(values) => values.clone(),
        Domain::Range { bounds, steps } => {
            let steps = steps.unwrap_or(1).max(1) as usize;
            let at = |i: usize| if steps == 1 { 0.0 } else { i as f64 / (steps - 1) as f64 };
            (0..steps)
                .map(|i| match *bounds {
                    Bounds::Float(_, b) if i + 1 == steps && steps > 1 => ParamValue::Float(b),
                    Bounds::Float(a, b) => ParamValue::Float(tidy(a + (b - a) * at(i), a, b, 12)),
                    Bounds::Int(a, b) => {
                        ParamValue::Int((a as i128 + ((b as i128 - a as i128) as f64 * at(i)).round() as i128) as i64)
                    }
                    Bounds::Date(a, b) => {
                        ParamValue::Date(a.plus_days((a.days_until(b) as f64 * at(i)).round() as i64))
                    }
                })
                .collect()
        }
    }
}

/// `x` in [a, b] without floating-point noise: rounded to `digits` significant digits,
/// and exactly 0 when it is within rounding error of 0 on the range's scale (a grid from
/// −2 to 1.8 has 0, not −2.2e-16).
fn tidy(x: f64, a: f64, b: f64, digits: usize) -> f64 {
    let scale = a.abs().max(b.abs());
    if x.abs() <= scale * 1e-12 {
        return 0.0;
    }
    round_sig(x, digits).clamp(a, b)
}

fn value_at(domain: &Domain, u: f64) -> ParamValue {
    let pick = |n: u64| ((u * n as f64) as u64).min(n - 1);
    match domain {
        Domain::Values(values) => values[pick(values.len() as u64) as usize].clone(),
        Domain::Range { bounds, .. } => match *bounds {
            Bounds::Float(a, b) => ParamValue::Float(tidy(a + (b - a) * u, a, b, 9)),
            Bounds::Int(a, b) => ParamValue::Int((a as i128 + pick((b as i128 - a as i128 + 1) as u64) as i128) as i64),
            Bounds::Date(a, b) => ParamValue::Date(a.plus_days(pick(a.days_until(b) as u64 + 1) as i64)),
        },
    }
}

/// `x` rounded to `digits` significant decimal digits.
fn round_sig(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits - 1, x).parse().unwrap_or(x)
}

fn random_units(n: usize, dims: usize, seed: u64) -> Vec<Vec<f64>> {
    let keys: Vec<DrawKey> = (0..dims).map(|d| DrawKey::new(seed, d as u64, 0, Purpose::SweepDesign)).collect();
    (0..n).map(|p| keys.iter().map(|k| k.uniform(p as u64)).collect()).collect()
}

/// McKay's Latin hypercube: in each dimension the n points fall one in each of n equal
/// strata, in an order drawn at random, at a uniform place within their stratum.
fn latin_hypercube(n: usize, dims: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut columns = Vec::with_capacity(dims);
    for d in 0..dims {
        let order = DrawKey::new(seed, d as u64, 1, Purpose::SweepDesign);
        let within = DrawKey::new(seed, d as u64, 2, Purpose::SweepDesign);
        let mut strata: Vec<usize> = (0..n).collect();
        // Fisher–Yates, one draw per position.
        for i in (1..n).rev() {
            let j = order.below(i as u64, i as u64 + 1) as usize;
            strata.swap(i, j);
        }
        columns.push((0..n).map(|p| (strata[p] as f64 + within.uniform(p as u64)) / n as f64).collect::<Vec<f64>>());
    }
    (0..n).map(|p| columns.iter().map(|c| c[p]).collect()).collect()
}

/// The first n points of the Sobol' sequence in `dims` dimensions, starting at the origin.
fn sobol_units(n: usize, dims: usize) -> Vec<Vec<f64>> {
    if dims == 0 {
        return vec![Vec::new(); n];
    }
    let params = sobol::params::JoeKuoD6::standard();
    sobol::Sobol::<f64>::new(dims, &params).take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Date;
    use crate::sweep::spec::parse;

    fn days(d: Date) -> i64 {
        d.days_since_epoch()
    }

    fn spec(text: &str) -> SweepSpec {
        parse(&format!("base = \"small\"\n{text}"), "s.toml", "s").unwrap()
    }

    #[test]
    fn a_grid_is_every_combination_first_parameter_slowest() {
        let s = spec("[parameters]\n\"a.x\" = [1, 2]\n\"a.y\" = { min = 0.0, max = 0.3, steps = 4 }\n");
        let d = design(&s, 1);
        assert_eq!(d.len(), 8);
        let cells: Vec<String> = d.iter().map(|p| format!("{}/{}", p[0].cell(), p[1].cell())).collect();
        assert_eq!(cells, ["1/0", "1/0.1", "1/0.2", "1/0.3", "2/0", "2/0.1", "2/0.2", "2/0.3"]);
        let dates = spec("[parameters]\n\"e.d\" = { min = 2025-05-12, max = 2025-05-22, steps = 3 }\n");
        let cells: Vec<String> = design(&dates, 1).iter().map(|p| p[0].cell()).collect();
        assert_eq!(cells, ["2025-05-12", "2025-05-17", "2025-05-22"]);
        assert_eq!(design(&spec(""), 1), vec![Vec::<ParamValue>::new()], "no parameters: one point");
        // A grid across zero has 0, not rounding noise, and ends exactly at max.
        let across = spec("[parameters]\n\"a.x\" = { min = -2.0, max = 1.8, steps = 20 }\n");
        let cells: Vec<String> = design(&across, 1).iter().map(|p| p[0].cell()).collect();
        assert_eq!(cells[10], "0", "{cells:?}");
        assert_eq!(cells[19], "1.8");
        assert!(cells.iter().all(|c| c.len() <= 4), "{cells:?}");
    }

    #[test]
    fn latin_hypercube_puts_one_point_in_every_stratum() {
        let s = spec(
            "[sample]\nmethod = \"lhs\"\npoints = 50\n[parameters]\n\"a.x\" = { min = 0.0, max = 1.0 }\n\"a.y\" = { min = 10, max = 59 }\n",
        );
        let d = design(&s, 7);
        for dim in 0..2 {
            let mut strata: Vec<usize> = d
                .iter()
                .map(|p| match p[dim] {
                    ParamValue::Float(x) => (x * 50.0) as usize,
                    ParamValue::Int(i) => (i - 10) as usize,
                    _ => unreachable!(),
                })
                .collect();
            strata.sort();
            assert_eq!(strata, (0..50).collect::<Vec<_>>(), "dimension {dim}");
        }
        assert_eq!(d, design(&s, 7), "same seed, same design");
        assert_ne!(d, design(&s, 8), "another seed, another design");
    }

    #[test]
    fn draws_stay_in_their_domains_and_sobol_fills_evenly() {
        for method in ["random", "sobol", "lhs"] {
            let s = spec(&format!(
                "[sample]\nmethod = \"{method}\"\npoints = 64\n[parameters]\n\"a.x\" = {{ min = -1.0, max = 1.0 }}\n\"a.d\" = {{ min = 2025-01-01, max = 2025-01-31 }}\n\"a.l\" = [\"p\", \"q\", \"r\"]\n"
            ));
            for p in design(&s, 3) {
                let ParamValue::Float(x) = p[0] else { panic!() };
                assert!((-1.0..=1.0).contains(&x), "{method}: {x}");
                let ParamValue::Date(date) = p[1] else { panic!() };
                assert!((0..=30).contains(&(days(date) - days(Date::from_ymd(2025, 1, 1).unwrap()))), "{method}");
                assert!(matches!(&p[2], ParamValue::Str(s) if ["p", "q", "r"].contains(&s.as_str())));
            }
        }
        // The first 2^k Sobol' points fall one in each of 2^k equal intervals of every axis.
        let s = spec(
            "[sample]\nmethod = \"sobol\"\npoints = 16\n[parameters]\n\"a.x\" = { min = 0.0, max = 1.0 }\n\"a.y\" = { min = 0.0, max = 1.0 }\n",
        );
        for dim in 0..2 {
            let mut cells: Vec<usize> = design(&s, 0)
                .iter()
                .map(|p| match p[dim] {
                    ParamValue::Float(x) => (x * 16.0) as usize,
                    _ => unreachable!(),
                })
                .collect();
            cells.sort();
            assert_eq!(cells, (0..16).collect::<Vec<_>>());
        }
    }

    #[test]
    fn seeds_are_common_across_points_unless_independent() {
        assert_eq!(run_seed(SeedMode::Common, 10, 0, 2), 12);
        assert_eq!(run_seed(SeedMode::Common, 10, 5, 2), 12);
        let a = run_seed(SeedMode::Independent, 10, 0, 2);
        assert_ne!(a, run_seed(SeedMode::Independent, 10, 1, 2));
        assert!(a <= i64::MAX as u64);
    }
}
