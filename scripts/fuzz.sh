#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer through cargo fuzz: card, profile and plan documents
# (YAML and Markdown front matter), dataset JSONL, conversation logs (JSONL and CSV), the
# results form (CSV and JSONL), `dataset import`'s readers of other benchmarks' files and
# `results import`'s readers of other harnesses' logs (Inspect JSON and `.eval`, lm-eval). The
# targets are in fuzz/fuzz_targets, their seeds in fuzz/seeds; what the fuzzer learns goes to
# target/fuzz/corpus, crashes to target/fuzz/artifacts.
#
#   bash scripts/fuzz.sh 15            # every target for 15 s (the test command's smoke run)
#   bash scripts/fuzz.sh 600 dataset   # one target for 10 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(documents dataset logs results imports harness); fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked --quiet cargo-fuzz
fi
# cargo fuzz asks for nightly-only flags; the machine has one stable toolchain.
export RUSTC_BOOTSTRAP=1
# The targets are safe Rust: a panic is what they look for, so no sanitizer slows them down.
fuzz=(cargo fuzz run --sanitizer none --target-dir target/fuzz/build)
for t in "${targets[@]}"; do
  mkdir -p "target/fuzz/corpus/$t" "target/fuzz/artifacts/$t"
  log="target/fuzz/$t.log"
  status=0
  "${fuzz[@]}" "$t" "target/fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -artifact_prefix="target/fuzz/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" || echo 0)
  echo "fuzz $t: $runs inputs in ${seconds} s"
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "target/fuzz/artifacts/$t")" ]; then
    tail -40 "$log" >&2
    echo "fuzz target $t failed (exit $status); the input is in target/fuzz/artifacts/$t/, the log in $log" >&2
    exit 1
  fi
done
