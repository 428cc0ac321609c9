#!/usr/bin/env bash
# Runs the timed benchmarks (`cargo bench`, divan) and prints each target of
# the benchmark issue with its measured ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo bench -p async-with-benches --bench with_vs_hand --bench generator_vs_impl --bench nesting \
    --bench error_path --bench panic_path --bench exit_stack --bench closure_api | tee "$out"
echo
python3 scripts/bench/divan.py <"$out" | python3 scripts/bench/targets.py
