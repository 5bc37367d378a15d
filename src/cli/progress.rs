//! Progress: a bar (indicatif) on a terminal, plain periodic lines otherwise.

use crate::run::Progress;
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
            bar.finish();
        }
    }
}

#[derive(Default)]
struct Lines {
    label: String,
    total: u32,
    started: Option<Instant>,
    next_report: u32,
}

impl Progress for Lines {
    fn begin(&mut self, label: &str, ticks: u32) {
        self.label = label.to_string();
        self.total = ticks;
        self.started = Some(Instant::now());
        self.next_report = (ticks / 10).max(1);
        eprintln!("{label}: 0/{ticks} weeks");
    }
    fn tick(&mut self, done: u32) {
        if done >= self.next_report && done < self.total {
            let secs = self.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0);
            eprintln!("{}: {done}/{} weeks ({secs:.1}s)", self.label, self.total);
            self.next_report = done + (self.total / 10).max(1);
        }
    }
    fn end(&mut self) {
        let secs = self.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0);
        eprintln!("{}: {}/{} weeks ({secs:.1}s)", self.label, self.total, self.total);
    }
}
