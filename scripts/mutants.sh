#!/usr/bin/env bash
# Mutation testing: injects bugs into runtime/src and macros/src with
# cargo-mutants (installed if missing) and prints, per crate,
#   <crate>: mutants: caught C / viable V (P%) in M min
# followed by the mutants no test caught.
#
# The workspace's tests live in packages other than the code they test, so
# each crate names its test packages (cargo-mutants' --test-package):
#   runtime (async-with): its unit and doc tests, the root package's tests
#     and the property test (checks/);
#   macros (async-with-macros): its unit and golden tests, the root
#     package's tests and the compile-fail suite (tests/ui/).
# `.cargo/mutants.toml` leaves out the integrations that need real
# resources (runtime/src/tokio/, trace.rs, sqlx.rs) and builds without
# debug info (profile `mutants`).
#
# Two passes keep a full run near an hour on 2 cores. Building every test
# package costs 15 s (runtime) to a minute (macros) per mutant, while the
# crate's own unit tests build in seconds and catch most mutants. So:
#   1. quick: every mutant against the crate's own unit tests;
#   2. full:  cargo-mutants --iterate, which retests only the mutants the
#      quick pass missed, against every test package.
# A mutant counts as caught when either pass catches it; the figures below
# merge both passes. Shard a crate across runs or machines with SHARD=k/n.
#   scripts/mutants.sh runtime
#   SHARD=0/2 scripts/mutants.sh macros
# Extra cargo-mutants arguments, e.g. to look at one file, go in MUTANTS_ARGS:
#   MUTANTS_ARGS="--re runtime/src/sync.rs" scripts/mutants.sh runtime
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked

crates=("${@:-runtime macros}")
shard=()
[ -n "${SHARD:-}" ] && shard=(--shard "$SHARD")

# Exit codes 2 (some mutants missed) and 3 (some timed out) are the figures,
# not failures.
# shellcheck disable=SC2086 # MUTANTS_ARGS is split on purpose
mutants() { cargo mutants "$@" "${shard[@]}" ${MUTANTS_ARGS:-} --no-shuffle || { code=$?; [ $code -eq 2 ] || [ $code -eq 3 ]; }; }

for crate in ${crates[*]}; do
  case "$crate" in
    runtime) package=async-with; test_packages=async-with,async-with-tests,async-with-checks ;;
    macros) package=async-with-macros; test_packages=async-with-macros,async-with-tests,async-with-ui ;;
    *) echo "usage: scripts/mutants.sh [runtime|macros]..." >&2; exit 2 ;;
  esac
  out="target/mutants-$crate${SHARD:+-${SHARD/\//-of-}}"
  mkdir -p "$out"
  start=$(date +%s)
  # A unit test runs in well under a second: 30 s means the mutant hangs.
  mutants -p "$package" --test-package "$package" --cargo-test-arg=--lib --timeout 30 --output "$out"
  cp "$out/mutants.out/outcomes.json" "$out/quick-outcomes.json"
  # A timeout counts as caught (cargo-mutants' convention); --iterate skips
  # what caught.txt lists, so the full pass does not wait for it again.
  cat "$out/mutants.out/timeout.txt" >>"$out/mutants.out/caught.txt"
  mutants -p "$package" --test-package "$test_packages" --iterate --output "$out"
  seconds=$(( $(date +%s) - start ))
  python3 - "$out/quick-outcomes.json" "$out/mutants.out/outcomes.json" "$crate" "$seconds" <<'PY'
import json, sys

quick_path, full_path, crate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def mutants(path):
    for outcome in json.load(open(path))["outcomes"]:
        if outcome["scenario"] != "Baseline":
            yield outcome["scenario"]["Mutant"], outcome["summary"]

def key(mutant):
    return (mutant["file"], mutant["span"]["start"]["line"], mutant["span"]["start"]["column"], mutant.get("name"))

# The full pass retests exactly the mutants the quick pass did not catch.
results = {key(m): (m, s) for m, s in mutants(quick_path)}
results.update({key(m): (m, s) for m, s in mutants(full_path)})
counts = {}
for _, summary in results.values():
    counts[summary] = counts.get(summary, 0) + 1
caught = counts.get("CaughtMutant", 0) + counts.get("Timeout", 0)
viable = caught + counts.get("MissedMutant", 0)
percent = 100 * caught / viable if viable else 100
print(f"{crate}: mutants: caught {caught} / viable {viable} ({percent:.1f}%) "
      f"in {seconds // 60} min; unviable {counts.get('Unviable', 0)}")
for mutant, summary in sorted(results.values(), key=lambda r: key(r[0])):
    if summary == "MissedMutant":
        print(f'  missed: {mutant["file"]}:{mutant["span"]["start"]["line"]}: {mutant.get("name")}')
PY
done
