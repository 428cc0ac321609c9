#!/usr/bin/env bash
# Heap allocations per use (counting global allocator) and future sizes:
# runs the `report` bench binary (untimed) and prints its tables.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo bench -p async-with-benches --bench report
