#!/usr/bin/env bash
# Runs the cancellation (in the block, and shielded steps during enter and
# exit; shutdown), panic, exit-stack, kept-error and `Send` tests
# under valgrind memcheck and prints a one-line verdict: cancelled futures,
# detached exits, dropped stacks and caught panics must leak nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "leaks: valgrind not installed (apt-get install valgrind)"; exit 1; }
mkdir -p target
total=0
for test in cancellation cancellation_shielded cancel_shutdown panics exit_stack exit_stack_chains suppressed_errors send; do
  binary=$(cargo test --test "$test" --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | grep "/$test-" | tail -n 1)
  valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$binary" --test-threads=1 >"target/leaks-$test.log" 2>&1 || {
      echo "leaks: FAILED in $test (see target/leaks-$test.log)"; exit 1; }
  lost=$(grep -o 'definitely lost: [0-9,]* bytes' "target/leaks-$test.log" | grep -o '[0-9,]*' | tr -d , || echo 0)
  total=$((total + ${lost:-0}))
  passed=$(grep -o '[0-9]* passed' "target/leaks-$test.log" | tail -n 1)
  echo "  $test: $passed, definitely lost: ${lost:-0} bytes"
done
echo "leaks: ok (valgrind memcheck, 0 errors, $total bytes definitely lost)"
