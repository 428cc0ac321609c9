#!/usr/bin/env bash
# The transparency harness (transparency/, DESIGN.md "Transparency
# harness"): wraps the async fn bodies (with --blocks, the async blocks too)
# of mini-redis, async-stream's tests and tokio's tests in `async_with!` and
# runs each crate's own tests, unwrapped then wrapped. Prints
# `transparency: X/Y wrapped files compile, P/T tests pass` per corpus and
# mode and in total; exits non-zero when something that passes unwrapped
# fails wrapped (unless --report-only).
#
#   scripts/transparency.sh                      # every corpus, async fns
#   scripts/transparency.sh --blocks             # every corpus, async fns and blocks
#   scripts/transparency.sh --corpus mini-redis  # one corpus (mini-redis|async-stream|tokio|all)
#   scripts/transparency.sh --subset             # the CI subset (see .ci/run)
#   scripts/transparency.sh --keep               # keep target/transparency/<corpus>-<mode>/
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p async-with-transparency -- "$@"
