#!/usr/bin/env bash
# Instructions executed per use of each workload (callgrind), against
# baseline (b): the difference of a run of N+10000 uses and a run of N
# uses, divided by 10000, so start-up and the first use's cold paths cancel
# out. Counts, not times: repeatable whatever else the machine is doing.
#   scripts/bench/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release -q -p async-with-benches --bin instructions
bin=target/release/instructions
count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
    # The "summary:" line holds the total instructions (Ir).
    grep -m1 '^summary:' "$out" | awk '{print $2}'
    rm -f "$out"
}
per_use() {
    local low high
    low=$(count "$1" 1000)
    high=$(count "$1" 11000)
    echo $(( (high - low) / 10000 ))
}
declare -A ir
for case in macro generator by_hand_b unguarded_c macro_error generator_error by_hand_b_error; do
    ir[$case]=$(per_use "$case")
    printf '%-16s %6d instructions per use\n' "$case" "${ir[$case]}"
done
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo
echo "generator / (b):               $(ratio "${ir[generator]}" "${ir[by_hand_b]}")x"
echo "generator, ? fails / (b):      $(ratio "${ir[generator_error]}" "${ir[by_hand_b_error]}")x"
echo "async_with! / (b):             $(ratio "${ir[macro]}" "${ir[by_hand_b]}")x"
echo "async_with!, ? fails / (b):    $(ratio "${ir[macro_error]}" "${ir[by_hand_b_error]}")x"
