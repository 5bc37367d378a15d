//! Where a run's time and memory go: each phase's share of the tick, output writing's
//! share of the run, ticks per second and peak memory. Always recorded (the cost is ten
//! clock reads a tick); `tradesim run --profile` prints it, the manifest keeps it.

use crate::engine::PhaseTimings;
use crate::schedule::Phase;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// Named agent counts every scenario can be run at (`--size`). Each preset fixes the total
/// number of households; firms follow the scenario's own households-per-firm ratio. On
/// the flagship (`us_china_2025`, 112,000 households) the presets are scale factors 0.1,
/// 1 and 9.7, and `large` has 1,086,400 households and 100,201 producers and retailers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SizePreset {
    /// About 10,000 households (11,200).
    Small,
    /// About 100,000 households and 10,000 firms: the flagship as written (112,000).
    Medium,
    /// About a million households and 100,000 firms (1,086,400 households).
    Large,
}

impl SizePreset {
    pub const ALL: [SizePreset; 3] = [SizePreset::Small, SizePreset::Medium, SizePreset::Large];

    pub fn name(self) -> &'static str {
        match self {
            SizePreset::Small => "small",
            SizePreset::Medium => "medium",
            SizePreset::Large => "large",
        }
    }

    /// Total households of the preset.
    pub fn households(self) -> u64 {
        match self {
            SizePreset::Small => 11_200,
            SizePreset::Medium => 112_000,
            SizePreset::Large => 1_086_400,
        }
    }

    /// The scale factor that gives a scenario with `households` households this preset's size.
    pub fn scale_for(self, households: u64) -> f64 {
        if households == 0 { 1.0 } else { self.households() as f64 / households as f64 }
    }
}

/// One run's profile: both simulations (scenario and counterfactual) together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunProfile {
    /// Agents in one world (households, producers, retailers).
    pub agents: u64,
    pub build_seconds: f64,
    pub ticks: u64,
    /// Seconds in each phase, in tick order.
    pub phase_seconds: Vec<(String, f64)>,
    /// Seconds in each system, as `[phase, system, seconds]` in the order the tick runs them.
    pub system_seconds: Vec<(String, String, f64)>,
    /// Seconds spent writing series and effects (and recording effects).
    pub output_seconds: f64,
    pub total_seconds: f64,
    /// The process's peak resident memory, bytes (Linux; `None` elsewhere).
    pub peak_memory_bytes: Option<u64>,
}

impl RunProfile {
    pub fn new(agents: u64, build: Duration, timings: &PhaseTimings, output: Duration, total: Duration) -> Self {
        RunProfile {
            agents,
            build_seconds: build.as_secs_f64(),
            ticks: timings.ticks,
            phase_seconds: Phase::ALL
                .iter()
                .zip(&timings.phase)
                .map(|(p, d)| (p.name().to_string(), d.as_secs_f64()))
                .collect(),
            system_seconds: timings
                .systems
                .iter()
                .map(|t| (t.phase.name().to_string(), t.name.to_string(), t.spent.as_secs_f64()))
                .collect(),
            output_seconds: output.as_secs_f64(),
            total_seconds: total.as_secs_f64(),
            peak_memory_bytes: peak_memory_bytes(),
        }
    }

    pub fn tick_seconds(&self) -> f64 {
        self.phase_seconds.iter().map(|(_, s)| s).sum()
    }

    /// The table `--profile` prints.
    pub fn report(&self) -> String {
        let tick = self.tick_seconds();
        let ticks = self.ticks.max(1) as f64;
        let mut s = String::new();
        let _ = writeln!(s, "profile: {} ticks of {} agents", self.ticks, self.agents);
        let _ = writeln!(s, "  {:<34} {:>10} {:>8} {:>10}", "phase (and its systems)", "ms/tick", "share", "ns/agent");
        let per_agent = |secs: f64| secs / ticks * 1e9 / self.agents.max(1) as f64;
        let row = |out: &mut String, label: &str, secs: f64| {
            let _ = writeln!(
                out,
                "{label} {:>10.3} {:>7.1}% {:>10.1}",
                secs / ticks * 1e3,
                share(secs, tick),
                per_agent(secs)
            );
        };
        for (name, secs) in &self.phase_seconds {
            row(&mut s, &format!("  {name:<34}"), *secs);
            // A phase of several systems lists them under it.
            let systems: Vec<_> = self.system_seconds.iter().filter(|(phase, ..)| phase == name).collect();
            if systems.len() > 1 {
                for (_, system, secs) in systems {
                    row(&mut s, &format!("    {system:<32}"), *secs);
                }
            }
        }
        let _ = writeln!(
            s,
            "  {:<34} {:>10.3} {:>7.1}% {:>10.1}",
            "tick",
            tick / ticks * 1e3,
            100.0,
            tick / ticks * 1e9 / self.agents.max(1) as f64
        );
        let _ = writeln!(
            s,
            "  ticks/s {:.2}; world construction {:.2}s; output writing {:.2}s = {:.1}% of the run ({:.1}s)",
            if tick > 0.0 { ticks / tick } else { 0.0 },
            self.build_seconds,
            self.output_seconds,
            share(self.output_seconds, self.total_seconds),
            self.total_seconds
        );
        match self.peak_memory_bytes {
            Some(b) => {
                let _ = writeln!(s, "  peak memory {:.0} MiB", b as f64 / (1024.0 * 1024.0));
            }
            None => {
                let _ = writeln!(s, "  peak memory: not available on this platform");
            }
        }
        s
    }
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { 100.0 * part / whole } else { 0.0 }
}

/// Peak resident set size of this process (`VmHWM` of `/proc/self/status`).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SystemTime;

    #[test]
    fn presets_scale_the_flagship_to_their_household_counts() {
        assert_eq!(SizePreset::Medium.scale_for(112_000), 1.0);
        assert!((SizePreset::Large.scale_for(112_000) - 9.7).abs() < 1e-12);
        assert!((SizePreset::Small.scale_for(112_000) - 0.1).abs() < 1e-12);
        assert_eq!(SizePreset::Large.scale_for(0), 1.0);
    }

    #[test]
    fn the_report_names_every_phase_and_the_shares_add_up() {
        let mut timings = PhaseTimings { ticks: 4, ..Default::default() };
        for (i, d) in timings.phase.iter_mut().enumerate() {
            *d = Duration::from_millis(10 * (i as u64 + 1));
        }
        let ms = Duration::from_millis;
        let system = |phase, name, spent| SystemTime { phase, name, spent };
        timings.systems = vec![
            system(Phase::Arrivals, "customs::receive_goods", ms(15)),
            system(Phase::Arrivals, "customs::collect_tariffs", ms(4)),
            system(Phase::Demand, "demand::plan_household_spending", ms(39)),
        ];
        let p =
            RunProfile::new(1000, Duration::from_secs(1), &timings, Duration::from_millis(50), Duration::from_secs(2));
        let text = p.report();
        for phase in Phase::ALL {
            assert!(text.contains(phase.name()), "{text}");
        }
        // A phase of several systems lists them (shares of the tick), a phase of one does
        // not repeat it.
        assert!(text.contains("    customs::receive_goods                3.750     3.3%"), "{text}");
        assert!(text.contains("    customs::collect_tariffs              1.000     0.9%"), "{text}");
        assert!(!text.contains("plan_household_spending"), "{text}");
        assert!((p.tick_seconds() - 0.45).abs() < 1e-9);
        // 45 ms of phases over 4 ticks.
        assert!(text.contains("ticks/s 8.89"), "{text}");
        assert!(text.contains("2.5% of the run"), "{text}");
        if cfg!(target_os = "linux") {
            assert!(p.peak_memory_bytes.unwrap() > 1024 * 1024);
        }
    }
}
