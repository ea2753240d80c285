#!/usr/bin/env bash
# Peak memory of `decompose` on a large results file: 1,000,000 rows (250,000 units x 4
# conditions, 10 strata, 0/1 scores from a fixed formula), written to a temporary folder, then
# decomposed by the release binary under /usr/bin/time -v (or Python's wait4 where `time` is
# absent). Prints the command, the peak RSS, the wall time and the SHA-256 of the output, so two
# builds can be checked to give the same decomposition.
#
#   bash bench/memory.sh            # builds target/release/benchcards, then measures it
#   bash bench/memory.sh BINARY     # measures another build (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  bin="$1"
else
  cargo build --release --quiet -p benchcards
  bin=target/release/benchcards
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Condition c is right for unit u when (u * 7919 + c * 104729) mod 100 falls under its rate.
awk 'BEGIN {
  print "unit,condition,score,stratum";
  split("A B C D", name, " "); split("82 74 61 55", rate, " ");
  for (u = 1; u <= 250000; u++)
    for (c = 1; c <= 4; c++)
      printf "u%06d,%s,%d,s%d\n", u, name[c], (u * 7919 + c * 104729) % 100 < rate[c], u % 10;
}' >"$dir/results.csv"
cmd=("$bin" decompose "$dir/results.csv" --path A,B,C,D --resamples 200)
echo "rows: $(($(wc -l <"$dir/results.csv") - 1)); file: $(du -m "$dir/results.csv" | cut -f1) MB"
echo "command: ${cmd[*]}"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "${cmd[@]}" >"$dir/out.txt" 2>"$dir/time.txt"
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
else
  read -r kb wall < <(python3 - "$dir/out.txt" "${cmd[@]}" <<'EOF'
import os, subprocess, sys, time
with open(sys.argv[1], "w") as out:
    t0 = time.perf_counter()
    p = subprocess.Popen(sys.argv[2:], stdout=out)
    _, status, ru = os.wait4(p.pid, 0)
    if status:
        sys.exit("the command failed")
print(ru.ru_maxrss, f"{time.perf_counter() - t0:.2f}s")
EOF
  )
fi
echo "peak RSS: $((kb / 1024)) MiB ($kb KiB); wall: $wall"
echo "output sha256: $(sha256sum <"$dir/out.txt" | cut -d' ' -f1)"
