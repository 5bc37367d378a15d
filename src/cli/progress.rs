//! Progress: a bar (indicatif) on a terminal, plain periodic lines otherwise.

use crate::run::Progress;
use crate::sweep::RunId;
use crate::sweep::runner::SweepProgress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

pub fn for_terminal() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() { Box::new(Bar { bar: None }) } else { Box::new(Lines::default()) }
}

struct Bar {
    bar: Option<ProgressBar>,
}

impl Progress for Bar {
    fn begin(&mut self, label: &str, ticks: u32) {
        let bar = ProgressBar::new(ticks as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:40}] {pos}/{len} weeks {per_sec} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        self.bar = Some(bar);
    }
    fn tick(&mut self, done: u32) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }
    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            // A run stopped early (a signal) shows where it stopped.
            if bar.position() < bar.length().unwrap_or(0) { bar.abandon() } else { bar.finish() }
        }
    }
}

#[derive(Default)]
struct Lines {
    label: String,
    total: u32,
    started: Option<Instant>,
    next_report: u32,
    done: u32,
}

impl Progress for Lines {
    fn begin(&mut self, label: &str, ticks: u32) {
        self.label = label.to_string();
        self.total = ticks;
        self.started = Some(Instant::now());
        self.next_report = (ticks / 10).max(1);
        self.done = 0;
        eprintln!("{label}: 0/{ticks} weeks");
    }
    fn tick(&mut self, done: u32) {
        self.done = done;
        if done >= self.next_report && done < self.total {
            let secs = self.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0);
            eprintln!("{}: {done}/{} weeks ({secs:.1}s)", self.label, self.total);
            self.next_report = done + (self.total / 10).max(1);
        }
    }
    fn end(&mut self) {
        let secs = self.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0);
        eprintln!("{}: {}/{} weeks ({secs:.1}s)", self.label, self.done, self.total);
    }
}

/// Progress of a sweep: a bar on a terminal; in a batch log, a line every 10% of the runs
/// and after 30 s without one.
pub fn for_sweep(label: String) -> Box<dyn SweepProgress> {
    if std::io::stderr().is_terminal() {
        Box::new(SweepBar { label, bar: None, failed: 0 })
    } else {
        Box::new(SweepLines { label, total: 0, done: 0, failed: 0, started: Instant::now(), last: Instant::now() })
    }
}

struct SweepBar {
    label: String,
    bar: Option<ProgressBar>,
    failed: usize,
}

impl SweepProgress for SweepBar {
    fn begin(&mut self, runs: usize) {
        let bar = ProgressBar::new(runs as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} runs, {msg} {per_sec} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(self.label.clone());
        bar.set_message("0 failed,");
        self.bar = Some(bar);
    }
    fn finished(&mut self, run: &RunId, failed: Option<&str>) {
        if let Some(bar) = &self.bar {
            if let Some(error) = failed {
                self.failed += 1;
                bar.set_message(format!("{} failed,", self.failed));
                bar.println(format!("run point {} replicate {} failed: {error}", run.point, run.replicate));
            }
            bar.inc(1);
        }
    }
    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

struct SweepLines {
    label: String,
    total: usize,
    done: usize,
    failed: usize,
    started: Instant,
    last: Instant,
}

impl SweepLines {
    fn line(&self) {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { self.done as f64 / secs } else { 0.0 };
        let eta = if rate > 0.0 { (self.total - self.done) as f64 / rate } else { 0.0 };
        eprintln!(
            "{}: {}/{} runs, {} failed, {rate:.2} runs/s, {secs:.0}s elapsed, eta {eta:.0}s",
            self.label, self.done, self.total, self.failed
        );
    }
}

impl SweepProgress for SweepLines {
    fn begin(&mut self, runs: usize) {
        self.total = runs;
        self.started = Instant::now();
        self.last = self.started;
        self.line();
    }
    fn finished(&mut self, run: &RunId, failed: Option<&str>) {
        self.done += 1;
        if let Some(error) = failed {
            self.failed += 1;
            eprintln!("run point {} replicate {} failed: {error}", run.point, run.replicate);
        }
        if self.done.is_multiple_of((self.total / 10).max(1)) {
            self.last = Instant::now();
            self.line();
        }
    }
    fn idle(&mut self) {
        if self.done < self.total && self.last.elapsed().as_secs() >= 30 {
            self.last = Instant::now();
            self.line();
        }
    }
    fn end(&mut self) {
        if !self.done.is_multiple_of((self.total / 10).max(1)) {
            self.line();
        }
    }
}
