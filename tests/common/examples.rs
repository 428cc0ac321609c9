//! Runs the workspace's examples from integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example_path(name: &str) -> PathBuf {
    // Integration tests live in target/<profile>/deps; `cargo test` builds
    // the examples into target/<profile>/examples.
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().unwrap().parent().unwrap();
    profile.join("examples").join(name)
}

/// Runs example `name` with `args`, checks it exits 0, returns its lines.
pub fn run_example(name: &str, args: &[&Path]) -> Vec<String> {
    let output = Command::new(example_path(name))
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run example {name}: {error}"));
    assert!(output.status.success(), "example {name} failed: {output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}
