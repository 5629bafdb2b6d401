#!/usr/bin/env bash
# Our sandbox beside isolated-vm in the same run (issue 14's peer): installs isolated-vm 5.0.4
# (and lodash 4.17.21, which the library bench then carries) from the npm registry into
# target/isolated-vm (a scratch folder; nothing is committed), then runs both sides in
# alternating rounds and prints each round's rows and ratios: the machine is shared, so one
# side measured minutes after the other can meet another load. Needs Node.js 20 and npm.
#   bash crates/runtime/benches/isolated-vm/compare.sh [ROUNDS]   (3 by default)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
rounds=${1:-3}
scratch=target/isolated-vm
if [ ! -d "$scratch/node_modules/isolated-vm" ] || [ ! -d "$scratch/node_modules/lodash" ]; then
    mkdir -p "$scratch"
    npm install --prefix "$scratch" --no-audit --no-fund isolated-vm@5.0.4 lodash@4.17.21
fi
cargo bench -q -p flowstate-runtime --no-run
# The p50 (4th column) of the row named $2 in table $1, and the number in its last column.
p50() { grep -F "| $2" <<<"$1" | head -1 | awk -F'|' '{ gsub(/ /, "", $4); print $4 }'; }
rate() { grep -F "| $2" <<<"$1" | head -1 | awk -F'|' '{ print $7 }' | grep -oE '[0-9]+' | head -1; }
summary=()
for round in $(seq "$rounds"); do
    echo "## round $round"
    theirs=$(NODE_PATH="$scratch/node_modules" node --no-node-snapshot crates/runtime/benches/isolated-vm/isolate.js)
    ours=$(cargo bench -q -p flowstate-runtime -- "trivial pull"; cargo bench -q -p flowstate-runtime -- "page of 10,000")
    echo "$theirs"; echo; echo "$ours" | grep -E '^\| (trivial|page)'; echo
    fresh=$(awk -v a="$(p50 "$theirs" 'isolated-vm: trivial pull')" -v b="$(p50 "$ours" 'trivial pull')" 'BEGIN { printf "%.1f", a / b }')
    page=$(awk -v a="$(rate "$ours" 'page of 10,000')" -v b="$(rate "$theirs" 'isolated-vm: page of 10,000')" 'BEGIN { printf "%.2f", a / b }')
    summary+=("| $round | ${fresh}× | ${page}× |")
done
echo "| round | fresh runtime vs fresh isolate, p50 (target ≥ 8×) | page of 10,000 records, records/s (target ≥ 1.5×) |"
echo "|---|---|---|"
printf '%s\n' "${summary[@]}"
echo
cargo bench -q -p flowstate-runtime -- library
