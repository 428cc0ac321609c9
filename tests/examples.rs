//! The seed tutorial's examples print exactly the seed's output lines.

use std::path::PathBuf;
use std::process::Command;

/// The Output block of the seed tutorial, kept in the repository so the
/// test runs anywhere; checked against the seed itself when it is present.
const EXPECTED: &str = include_str!("expected/seed_output.txt");

fn example_path(name: &str) -> PathBuf {
    // Integration tests live in target/<profile>/deps; `cargo test` builds
    // the examples into target/<profile>/examples.
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().unwrap().parent().unwrap();
    profile.join("examples").join(name)
}

fn run_example(name: &str) -> Vec<String> {
    let output = Command::new(example_path(name))
        .output()
        .unwrap_or_else(|error| panic!("cannot run example {name}: {error}"));
    assert!(output.status.success(), "example {name} failed: {output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn expected_lines_match_the_seed_tutorial_when_it_is_present() {
    let seed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/async-context-managers.md");
    let Ok(seed) = std::fs::read_to_string(&seed) else {
        eprintln!(
            "seed not found at {}; comparing with the kept copy only",
            seed.display()
        );
        return;
    };
    // Both examples' Output blocks hold the same five lines.
    let blocks: Vec<&str> = seed
        .split("#### **Output:**")
        .skip(1)
        .map(|rest| {
            let start = rest.find("```\n").unwrap() + 4;
            let end = start + rest[start..].find("```").unwrap();
            &rest[start..end]
        })
        .collect();
    assert_eq!(blocks.len(), 2);
    for block in blocks {
        assert_eq!(block, EXPECTED);
    }
}

#[test]
fn example_connection_prints_the_seed_output() {
    let expected: Vec<&str> = EXPECTED.lines().collect();
    assert_eq!(run_example("connection"), expected);
}

#[test]
fn example_connection_generator_prints_the_seed_output() {
    let expected: Vec<&str> = EXPECTED.lines().collect();
    assert_eq!(run_example("connection_generator"), expected);
}
