#!/usr/bin/env bash
# Runs under miri the runtime crate's unit tests (which exercise every
# `unsafe` block) and the cancellation and panic tests (real tokio
# cancellation, caught panics, dropped exit stacks), and prints a one-line
# verdict.
set -uo pipefail
cd "$(dirname "$0")/.."
rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
rustup +nightly component add miri rust-src >/dev/null 2>&1
mkdir -p target
status=0
{
  cargo +nightly miri test -p async-with --lib "$@" &&
  cargo +nightly miri test -p async-with-tests --test cancellation --test cancellation_shielded --test panics "$@"
} >target/miri.log 2>&1 || status=$?
tail -n 5 target/miri.log
if [ "$status" -eq 0 ] && ! grep -q "Undefined Behavior" target/miri.log; then
  passed=$(grep -o '[0-9]* passed' target/miri.log | awk '{ n += $1 } END { print n }')
  echo "miri: ok ($passed tests passed, no undefined behaviour)"
else
  echo "miri: FAILED (see target/miri.log)"
  exit 1
fi
