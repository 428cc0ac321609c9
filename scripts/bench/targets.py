#!/usr/bin/env python3
"""Reads `path median_ns` lines (scripts/bench/divan.py) on stdin; prints the
benchmark issue's targets as a Markdown table. Missing benches are skipped."""

import sys

m = {}
for line in sys.stdin:
    path, ns = line.split()
    m[path] = float(ns)

rows = []


def ratio(item, what, num, den, target):
    if num in m and den in m:
        r = m[num] / m[den]
        met = "met" if target is None or r <= target else "MISSED"
        goal = "—" if target is None else f"≤ {target:.2f}"
        rows.append((item, what, f"{m[num]:.1f} / {m[den]:.1f} ns", f"{r:.2f}×", goal, met if target else "—"))


ratio("1", "async_with! / (b) by hand", "with_vs_hand/async_with", "with_vs_hand/by_hand_b", 1.05)
ratio("1", "(a) inline / (b) by hand", "with_vs_hand/inline_a", "with_vs_hand/by_hand_b", None)
ratio("1", "(c) unguarded / (b) by hand", "with_vs_hand/unguarded_c", "with_vs_hand/by_hand_b", None)
ratio("2", "#[async_context] / (b) by hand", "generator_vs_impl/generator", "generator_vs_impl/by_hand_b", 1.25)
ratio("2", "#[async_context] / (b) by hand, `?` fails", "generator_vs_impl/generator_error", "generator_vs_impl/by_hand_b_error", 1.25)
ratio("2", "#[async_context] / trait impl, both in async_with!", "generator_vs_impl/generator", "generator_vs_impl/trait_impl", None)
ratio("2", "same, `?` fails", "generator_vs_impl/generator_error", "generator_vs_impl/trait_impl_error", None)
ratio("2", "driven by hand, no panic catching: #[async_context] / trait impl (the driver alone)", "generator_vs_impl/generator_c", "generator_vs_impl/trait_impl_c", None)
ratio("2", "same: one async block exchanging nothing / trait impl (the design's floor)", "generator_vs_impl/bare_body_c", "generator_vs_impl/trait_impl_c", None)
ratio("5", "with() / async_with!", "closure_api/with", "closure_api/async_with", None)
ratio("5", "with() / async_with!, failing block", "closure_api/with_error", "closure_api/async_with_error", None)
ratio("6", "async_with! / (b) by hand, `?` fails", "error_path/async_with", "error_path/by_hand_b", 1.10)
ratio("6", "(a) inline / (b) by hand", "error_path/inline_a", "error_path/by_hand_b", None)
ratio("6", "(c) unguarded / (b) by hand", "error_path/unguarded_c", "error_path/by_hand_b", None)
ratio("7", "async_with! / (b) by hand, block panics", "panic_path/async_with", "panic_path/by_hand_b", 1.10)

print("| item | pair | medians | ratio | target | |")
print("|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")

for form in ("trait_impl", "generator"):
    depths = [d for d in (1, 2, 4, 8) if f"nesting/{form}/{d}" in m]
    if not depths:
        continue
    per_level = {d: m[f"nesting/{form}/{d}"] / d for d in depths}
    cells = ", ".join(f"depth {d}: {m[f'nesting/{form}/{d}']:.0f} ns ({per_level[d]:.1f}/level)" for d in depths)
    # Linear: the cost per level does not grow with depth (25% noise allowed).
    growth = per_level[depths[-1]] / min(per_level[d] for d in depths)
    met = "met" if growth <= 1.25 else "MISSED"
    print(f"\nItem 3, nesting, {form}: {cells}; deepest per-level / cheapest per-level = {growth:.2f} (linear: ≤ 1.25, {met})")

entries = [n for n in (1, 10, 100, 1000) if f"exit_stack/entries/{n}" in m]
if entries:
    cells = ", ".join(f"{n}: {m[f'exit_stack/entries/{n}']:.0f} ns ({m[f'exit_stack/entries/{n}'] / n:.1f}/entry)" for n in entries)
    print(f"\nItem 4, exit stack: {cells}")
    if 100 in entries and 1000 in entries:
        marginal = (m["exit_stack/entries/1000"] - m["exit_stack/entries/100"]) / 900
        print(f"Item 4, marginal cost per entry from 100 to 1000 entries: {marginal:.1f} ns")
