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
#     package's tests, the compile-fail suite (tests/ui/) and the user
#     crates of compat/ (edition 2021, a renamed dependency).
# `.cargo/mutants.toml` leaves out the integrations that need real
# resources (runtime/src/tokio/, trace.rs, sqlx.rs) and builds without
# debug info (profile `mutants`).
#
# Passes keep a full run short: on 2 cores, 20 minutes for the runtime and
# 11 for the macros (DESIGN.md, "Mutation testing"). Each mutant rebuilds the
# tests it runs: the crate's own unit tests build in about a second, the
# root package's tests in about 20 s, and the model (checks/) and the
# compile-fail suite (tests/ui/) take a minute or more. So every mutant
# meets the cheapest tests first, and only what they miss goes on:
#   1. the crate's own unit tests (for the macros, also the golden files);
#   2. runtime: the root package's tests; macros: the root package's
#      tests of the expansion (enter_exit, returns, question_mark,
#      block_value, break_continue, suppress, panic_in_block, exit_fails,
#      several_managers, body, nesting, macros_in_blocks, generator);
#   3. every test package (cargo-mutants --iterate retests exactly what
#      the earlier passes missed).
# A mutant counts as caught when any pass catches it; the figures merge
# the passes. A mutant that built in pass 1 but makes a later pass's tests
# fail to build (a macro that emits code which does not compile) is caught
# too: the tests rejected it, at compile time. cargo-mutants reports that
# as "unviable", as it cannot tell it from a mutant that never built. Shard a crate across runs or machines with SHARD=k/n.
#   scripts/mutants.sh runtime
#   SHARD=0/2 scripts/mutants.sh macros
# Extra cargo-mutants arguments, e.g. to look at one file, go in MUTANTS_ARGS:
#   MUTANTS_ARGS="--re runtime/src/sync.rs" scripts/mutants.sh runtime
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked

crates=("${@:-runtime macros}")
# A shard is every n-th mutant (round-robin: a sample across all files).
shard=()
[ -n "${SHARD:-}" ] && shard=(--shard "$SHARD" --sharding round-robin)

# Exit codes 2 (some mutants missed) and 3 (some timed out) are the figures,
# not failures.
# shellcheck disable=SC2086 # MUTANTS_ARGS is split on purpose
mutants() { cargo mutants "$@" ${MUTANTS_ARGS:-} --no-shuffle || { code=$?; [ $code -eq 2 ] || [ $code -eq 3 ]; }; }

for crate in ${crates[*]}; do
  # Each pass: the test packages, then cargo test arguments. A unit test
  # runs in well under a second, so in pass 1 a 30 s test means a hang.
  case "$crate" in
    runtime)
      package=async-with
      passes=(
        "--test-package async-with --cargo-test-arg=--lib --timeout 30"
        "--test-package async-with-tests"
        "--test-package async-with,async-with-tests,async-with-checks"
      ) ;;
    macros)
      package=async-with-macros
      expansion_tests=""
      for target in enter_exit returns question_mark block_value break_continue suppress \
        panic_in_block exit_fails several_managers body nesting macros_in_blocks generator; do
        expansion_tests+=" --cargo-test-arg=--test=$target"
      done
      passes=(
        "--test-package async-with-macros --cargo-test-arg=--lib --cargo-test-arg=-- --cargo-test-arg=--skip=fuzz::fuzz --timeout 30"
        "--test-package async-with-tests$expansion_tests"
        "--test-package async-with-macros,async-with-tests,async-with-ui,async-with-edition2021,async-with-renamed"
      ) ;;
    *) echo "usage: scripts/mutants.sh [runtime|macros]..." >&2; exit 2 ;;
  esac
  out="target/mutants-$crate${SHARD:+-${SHARD/\//-of-}}"
  mkdir -p "$out"
  rm -f "$out"/pass-*.json
  start=$(date +%s)
  for pass in "${!passes[@]}"; do
    iterate=()
    # Later passes skip the baseline: cargo-mutants runs it on the mutated
    # package alone, which lacks their test targets (pass 1 ran it).
    [ "$pass" -gt 0 ] && iterate=(--iterate --baseline=skip --timeout 180)
    # Only pass 1 shards: the later ones retest what it missed.
    sharded=()
    [ "$pass" -eq 0 ] && sharded=("${shard[@]}")
    # shellcheck disable=SC2086 # each pass's arguments are split on purpose
    mutants -p "$package" ${passes[$pass]} "${iterate[@]}" "${sharded[@]}" --output "$out"
    if [ "$pass" -eq 0 ] && [ -n "${SHARD:-}" ]; then
      # --iterate skips the mutants caught.txt lists: the other shards'
      # are listed there, so the later passes stay in this shard. They
      # are counted nowhere (the figures come from the passes' outcomes).
      python3 -c 'import json, sys; print("\n".join(m["name"] for m in json.load(open(sys.argv[1]))))' \
        "$out/mutants.out/mutants.json" >"$out/shard.txt"
      cargo mutants --list -p "$package" | grep -vxF -f "$out/shard.txt" >>"$out/mutants.out/caught.txt" || true
    fi
    if [ -f "$out/mutants.out/outcomes.json" ]; then
      cp "$out/mutants.out/outcomes.json" "$out/pass-$pass.json"
      # A timeout counts as caught (cargo-mutants' convention); --iterate
      # skips what caught.txt lists, so later passes do not wait for it.
      cat "$out/mutants.out/timeout.txt" >>"$out/mutants.out/caught.txt"
    fi
  done
  seconds=$(( $(date +%s) - start ))
  python3 - "$crate" "$seconds" "$out"/pass-*.json <<'PY'
import json, sys

crate, seconds, passes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def key(mutant):
    start = mutant["span"]["start"]
    return (mutant["file"], start["line"], start["column"], mutant.get("name"))

# Each pass retests exactly the mutants the earlier passes did not catch,
# so a later pass's outcome overrides an earlier one.
results = {}
for path in sorted(passes):
    for outcome in json.load(open(path))["outcomes"]:
        if outcome["scenario"] != "Baseline":
            mutant = outcome["scenario"]["Mutant"]
            summary = outcome["summary"]
            built_before = key(mutant) in results and results[key(mutant)][1] != "Unviable"
            if summary == "Unviable" and built_before:
                summary = "CaughtMutant"  # the tests no longer build
            results[key(mutant)] = (mutant, summary)
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
        print(f'  missed: {mutant.get("name")}')
PY
done
