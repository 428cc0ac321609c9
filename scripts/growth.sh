#!/usr/bin/env bash
# How the expansion grows with its input (macros/src/growth.rs): output
# tokens and expansion time per input token, for n = 8, 16, 32 and 64
# nested levels, managers in one invocation, and `f(a)?;` statements in one
# block, measured on a release build of the macro crate (cargo builds proc
# macros unoptimised, several times slower). Linear growth keeps both
# columns flat as n grows. Then the line counts of three small expansions
# as `cargo expand` prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -q -p async-with-macros --lib growth::growth_table -- --ignored --nocapture 2>/dev/null \
  | grep '^|'
cargo test --release -q -p async-with-macros --lib growth::expansion_line_counts -- --ignored --nocapture 2>/dev/null \
  | grep '^lines:'
