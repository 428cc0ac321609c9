#!/usr/bin/env python3
"""Reads divan's output on stdin; prints `path median_ns` per benchmark.

Paths join the tree: `nesting/trait_impl/4`. Used by scripts/bench/ratios.sh and
scripts/bench/compare.sh (divan has no machine-readable output).
"""

import re
import sys

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}


def medians(lines):
    stack = []
    for line in lines:
        line = line.rstrip("\n")
        if "fastest" in line and "median" in line:
            stack = [line.split()[0]]
            continue
        match = re.match(r"^((?:│  |   )*)[├╰]─ (\S+)", line)
        if not match or not stack:
            continue
        depth = len(match.group(1)) // 3 + 1
        stack = stack[:depth] + [match.group(2)]
        # after the name: fastest │ slowest │ median │ mean │ samples │ iters
        cells = [cell.strip() for cell in line[match.end() :].split("│")]
        if len(cells) >= 3 and cells[2]:
            value, unit = cells[2].split()
            yield "/".join(stack), float(value) * UNITS[unit]


if __name__ == "__main__":
    for path, ns in medians(sys.stdin):
        print(f"{path} {ns:.3f}")
