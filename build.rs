//! Records the git commit the binary is built from, for the run manifest: the commit's
//! hash, with `-dirty` appended when the sources that make the binary differ from it.
use std::process::Command;

/// What the binary is made of: a change to any of these can change a run's outputs.
const SOURCES: [&str; 5] = ["src", "configs", "Cargo.toml", "Cargo.lock", "build.rs"];

fn main() {
    // HEAD moves on checkout, the index on every commit and `git add`; the sources on edit.
    for path in [".git/HEAD", ".git/index"].iter().chain(&SOURCES) {
        println!("cargo:rerun-if-changed={path}");
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
    };
    let commit = git(&["rev-parse", "HEAD"]).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    let dirty = !commit.is_empty() && git(&status).is_some_and(|s| !s.trim().is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=TRADESIM_GIT_COMMIT={commit}{suffix}");
}
