#!/usr/bin/env bash
# Runs the runtime crate's unit tests (which exercise every `unsafe` block)
# under miri, and prints a one-line verdict.
set -uo pipefail
cd "$(dirname "$0")/.."
rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
rustup +nightly component add miri rust-src >/dev/null 2>&1
if cargo +nightly miri test -p async-with --lib "$@" 2>&1 | tee target/miri.log | tail -n 5; then
  :
fi
if grep -q "test result: ok" target/miri.log && ! grep -q "Undefined Behavior" target/miri.log; then
  echo "miri: ok ($(grep -o '[0-9]* passed' target/miri.log | tail -1), no undefined behaviour)"
else
  echo "miri: FAILED (see target/miri.log)"
  exit 1
fi
