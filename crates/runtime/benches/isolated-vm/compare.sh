#!/usr/bin/env bash
# Our sandbox beside isolated-vm in the same run (issue 14's peer): installs isolated-vm 5.0.4
# from the npm registry into target/isolated-vm (a scratch folder; nothing is committed),
# prints its rows, then ours. Needs Node.js 20 and npm. Run it on a quiet machine:
#   bash crates/runtime/benches/isolated-vm/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
scratch=target/isolated-vm
if [ ! -d "$scratch/node_modules/isolated-vm" ]; then
    mkdir -p "$scratch"
    npm install --prefix "$scratch" --no-audit --no-fund isolated-vm@5.0.4
fi
NODE_PATH="$scratch/node_modules" node --no-node-snapshot crates/runtime/benches/isolated-vm/isolate.js
echo
cargo bench -q -p flowstate-runtime -- "trivial pull"
cargo bench -q -p flowstate-runtime -- "page of 10,000"
