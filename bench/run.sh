#!/usr/bin/env bash
# Reproduces bench/RESULTS.md: builds the release binaries, installs the peer harnesses into
# target/bench/peers (a Python venv and a node folder, from PyPI and npm), then measures
# benchcards and the peers against the project's mock server on 127.0.0.1, the command-line
# costs, and the decomposition bootstrap.
#
#   bash bench/run.sh            # everything
#   bash bench/run.sh peers      # only the side-by-side run
#   bash bench/run.sh cli        # only start-up, check, match, memory and resume
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
cargo build --release --quiet -p benchcards -p benchcards-mock
cargo build --release --quiet -p benchcards-assess --example match_bench
peers=target/bench/peers
if [ "$what" = all ] || [ "$what" = peers ]; then
  mkdir -p "$peers"
  if [ ! -x "$peers/venv/bin/lm_eval" ] || [ ! -x "$peers/venv/bin/inspect" ]; then
    python3 -m venv "$peers/venv"
    "$peers/venv/bin/pip" install --quiet "lm-eval[api]==0.4.13" "inspect-ai==0.3.285" "openai==3.57.0"
  fi
  if [ ! -d "$peers/node_modules/promptfoo" ]; then
    # 0.121.20 is the newest release whose engines admit Node 20 (0.122 asks for Node >= 22.22).
    (cd "$peers" && npm install --silent --no-audit --no-fund promptfoo@0.121.20)
  fi
  python3 bench/bench.py peers
fi
if [ "$what" = all ] || [ "$what" = cli ]; then
  python3 bench/bench.py cli
fi
if [ "$what" = all ]; then
  bash bench/bootstrap.sh
fi
