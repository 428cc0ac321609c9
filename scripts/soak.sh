#!/usr/bin/env bash
# Runs the model-checked property test (tests/model.rs) on many random
# scenarios (100,000 unless given another count), in a release build, and
# prints how many ran and how many disagreed with the model.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-100000}"
mkdir -p target
status=0
MODEL_CASES="$cases" cargo test --release -p async-with-checks --test model the_macros_agree_with_the_model -- --nocapture \
  >target/soak.log 2>&1 || status=$?
grep "^model:" target/soak.log || { tail -n 30 target/soak.log; exit 1; }
if [ "$status" -ne 0 ]; then
  grep -A 40 "minimal failing input" target/soak.log || tail -n 30 target/soak.log
  exit "$status"
fi
