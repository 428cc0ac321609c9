//! The seed tutorial's examples print exactly the seed's output lines.

#[path = "common/examples.rs"]
mod examples;

use examples::run_example;
use std::path::PathBuf;

/// The Output block of the seed tutorial, which the examples print.
const EXPECTED: &str = include_str!("expected/seed_output.txt");

/// The kept output against the seed tutorial itself, whose verbatim copy is
/// `docs/seed/async-context-managers.md`.
#[test]
fn expected_lines_match_the_seed_tutorial() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/seed/async-context-managers.md");
    let seed = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("the seed tutorial at {}: {error}", path.display()));
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
    assert_eq!(run_example("connection", &[]), expected);
}

#[test]
fn example_connection_generator_prints_the_seed_output() {
    let expected: Vec<&str> = EXPECTED.lines().collect();
    assert_eq!(run_example("connection_generator", &[]), expected);
}
