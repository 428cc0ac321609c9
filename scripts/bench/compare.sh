#!/usr/bin/env bash
# Rust and CPython asyncio side by side: the same cycles (a class manager,
# an @asynccontextmanager generator, an exit stack with 10 entries; enter,
# block and exit each suspend once), ns per cycle on each side and the ratio.
# Targets: >= 50x faster than the class form, >= 300x faster than the generator.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=$(command -v python3.11 || command -v python3)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== Rust (cargo bench, divan medians)"
cargo bench -p async-with-benches --bench with_vs_hand --bench generator_vs_impl --bench exit_stack | tee "$out"
echo "== Python ($("$python" --version 2>&1), asyncio, best of 5)"
python_suspending=$("$python" scripts/bench/python_baseline.py)
python_bare=$("$python" scripts/bench/python_baseline.py --no-suspend)
echo "$python_suspending"

rust=$(python3 scripts/bench/divan.py <"$out")
RUST="$rust" PY="$python_suspending" PY_BARE="$python_bare" python3 - <<'PY'
import os

rust = dict((p, float(v)) for p, v in (l.split() for l in os.environ["RUST"].splitlines()))
py = dict((p, float(v)) for p, v in (l.split() for l in os.environ["PY"].splitlines()))
bare = dict((p, float(v)) for p, v in (l.split() for l in os.environ["PY_BARE"].splitlines()))
pairs = [
    ("class manager", "with_vs_hand/async_with", "class", 50),
    ("generator manager", "generator_vs_impl/generator", "generator", 300),
    ("exit stack, 10 entries", "exit_stack/entries/10", "exit_stack_10", None),
]
print()
print("| cycle | Rust ns/op | Python ns/op | Python / Rust | target |")
print("|---|---|---|---|---|")
for name, rust_key, py_key, target in pairs:
    if rust_key not in rust:
        continue
    r = py[py_key] / rust[rust_key]
    goal = f"≥ {target}×: {'met' if r >= target else 'MISSED'}" if target else "—"
    print(f"| {name} | {rust[rust_key]:.1f} | {py[py_key]:.0f} | {r:.0f}× | {goal} |")
print()
print("Python without suspensions (the protocol alone, for scale): "
      + ", ".join(f"{k} {v:.0f} ns" for k, v in bare.items()))
PY
