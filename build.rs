//! Records the git commit the binary is built from, for the run manifest: the commit's
//! hash, with `-dirty` appended when the sources that make the binary differ from it.
use std::path::Path;
use std::process::Command;

/// What the binary is made of: a change to any of these can change a run's outputs.
const SOURCES: [&str; 5] = ["src", "configs", "Cargo.toml", "Cargo.lock", "build.rs"];

fn main() {
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&manifest_dir)
            // Read-only: `status` would otherwise refresh the index, a file watched below.
            .arg("--no-optional-locks")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
    };
    // Only this crate's own repository: a source tree unpacked inside another repository
    // (or with no git at all) records no commit.
    let top = git(&["rev-parse", "--show-toplevel"]);
    let ours = top.as_deref().is_some_and(|top| same_dir(top, &manifest_dir));
    let commit = if ours { git(&["rev-parse", "HEAD"]).unwrap_or_default() } else { String::new() };
    if ours {
        // HEAD moves on checkout; its branch's ref (loose or packed) and the reflog on every
        // commit, amend and reset; the index on `git add`. Paths are asked of git, since
        // `.git` may be a file (worktrees); only existing ones are watched, because Cargo
        // re-runs a build script on every build for a watched path that does not exist.
        let branch = git(&["symbolic-ref", "-q", "HEAD"]);
        let mut watched = vec!["HEAD", "index", "logs/HEAD", "packed-refs"];
        watched.extend(branch.as_deref());
        for name in watched {
            if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", name])
                && Path::new(&path).exists()
            {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    let dirty = !commit.is_empty() && git(&status).is_some_and(|s| !s.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=TRADESIM_GIT_COMMIT={commit}{suffix}");
}

/// Whether two paths name the same directory (symlinks and `..` resolved).
fn same_dir(a: &str, b: &str) -> bool {
    match (Path::new(a).canonicalize(), Path::new(b).canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
