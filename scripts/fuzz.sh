#!/usr/bin/env bash
# Fuzzes both macros (macros/src/fuzz.rs): N token streams (1,000,000 unless
# given another count) from the macros' grammar and from mutations of every
# invocation in the repository, each expanded by the macro crate's entry
# points as proc_macro2 functions, on a release build. Prints
# `fuzz: N inputs, P panics, I invalid, S slowest ms`; fails on a panic, on output
# that is neither valid Rust nor one `compile_error!`, or on an input that
# takes a second or more. FUZZ_SEED picks the seed (fixed by default).
set -euo pipefail
cd "$(dirname "$0")/.."
inputs="${1:-1000000}"
mkdir -p target
status=0
FUZZ_INPUTS="$inputs" cargo test --release -p async-with-macros --lib fuzz::fuzz -- --nocapture \
  >target/fuzz.log 2>&1 || status=$?
grep -E "^fuzz:|panics at|^invalid|^  " target/fuzz.log || tail -n 30 target/fuzz.log
if [ "$status" -ne 0 ]; then
  grep -A 12 "panicked at" target/fuzz.log | head -40
  exit "$status"
fi
