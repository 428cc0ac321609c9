#!/usr/bin/env bash
# Mutation testing: injects bugs into runtime/src and macros/src with
# cargo-mutants (installed if missing) and prints, per crate,
#   mutants: caught C / viable V (P%)
# followed by the mutants no test caught.
#
# The workspace's tests live in packages other than the code they test, so
# each crate names its test packages (cargo-mutants' --test-package):
#   runtime (async-with): its unit and doc tests, the root package's tests
#     and the property test (checks/);
#   macros (async-with-macros): its golden tests, the root package's tests
#     and the compile-fail suite (tests/ui/).
# `.cargo/mutants.toml` leaves out the integrations that need real
# resources (runtime/src/tokio/, trace.rs, sqlx.rs) and builds without
# debug info (profile `mutants`).
#
# Time on 2 cores: about 15 s per runtime mutant (about 55 minutes) and
# about a minute per macro mutant (each one re-expands every test). Run
# one crate at a time, and shard a crate across runs or machines with
# SHARD=k/n (for the macros, SHARD=0/3, 1/3, 2/3 each take about an hour):
#   scripts/mutants.sh runtime
#   SHARD=0/3 scripts/mutants.sh macros
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked

crates=("${@:-runtime macros}")
shard=()
[ -n "${SHARD:-}" ] && shard=(--shard "$SHARD")

for crate in ${crates[*]}; do
  case "$crate" in
    runtime) args=(-p async-with --test-package async-with,async-with-tests,async-with-checks) ;;
    macros) args=(-p async-with-macros --test-package async-with-macros,async-with-tests,async-with-ui) ;;
    *) echo "usage: scripts/mutants.sh [runtime|macros]..." >&2; exit 2 ;;
  esac
  out="target/mutants-$crate"
  start=$(date +%s)
  # Exit code 2 means "some mutants were missed": that is the figure, not a failure.
  cargo mutants "${args[@]}" "${shard[@]}" --output "$out" --no-shuffle || [ $? -eq 2 ]
  seconds=$(( $(date +%s) - start ))
  python3 - "$out/mutants.out/outcomes.json" "$crate" "$seconds" <<'PY'
import json, sys

path, crate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
outcomes = json.load(open(path))["outcomes"]
summary = {}
missed = []
for outcome in outcomes:
    scenario = outcome["scenario"]
    if scenario == "Baseline":
        continue
    summary[outcome["summary"]] = summary.get(outcome["summary"], 0) + 1
    if outcome["summary"] == "MissedMutant":
        mutant = scenario["Mutant"]
        missed.append(f'{mutant["file"]}:{mutant["span"]["start"]["line"]}: {mutant.get("name") or mutant.get("replacement")}')
caught = summary.get("CaughtMutant", 0) + summary.get("Timeout", 0)
viable = caught + summary.get("MissedMutant", 0)
percent = 100 * caught / viable if viable else 100
print(f"{crate}: mutants: caught {caught} / viable {viable} ({percent:.1f}%) "
      f"in {seconds // 60} min; unviable {summary.get('Unviable', 0)}")
for line in missed:
    print(f"  missed: {line}")
PY
done
