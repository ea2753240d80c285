#!/usr/bin/env bash
# The study server under load: 100, 300 and 1,000 simulated participants at once against one
# and two `benchcards study serve` instances, on a SQLite file and on a PostgreSQL database
# (started for the run on a temporary folder and a loopback port, as the tests start it), the
# mock model answering each chat message after 1 s. Prints the table (page latency p50/p99,
# participants per minute, peak RSS per instance, answers lost, allocation imbalance per
# scenario), then runs the 20 SIGKILL trials (`BENCHCARDS_STUDY_KILL_TRIALS` to change).
# Release build; the table's rows fail the run if an answer is lost or the arms drift apart by
# more than the block size. As root, PostgreSQL runs as the user `benchcards-pg`
# (scripts/test.sh creates it).
#
#   bash bench/study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --locked -q -p benchcards --test study_load -- --include-ignored --nocapture --test-threads 1
