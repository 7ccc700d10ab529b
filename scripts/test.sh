#!/usr/bin/env bash
# The whole test suite: formatting, lints, supply-chain checks, Rust tests,
# and agreement with the IAB reference library. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# A clean clone builds once: incremental compilation's caches would only
# take disk (several GB), and a full disk makes rustc fail mid-build.
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo deny (licences, bans, sources)"
# Pinned: scripts/advisories.sh lays the advisory snapshot out where this
# version looks for it.
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny 0.20.2"; then
  cargo install --locked cargo-deny@0.20.2
fi
cargo deny --log-level error check licenses bans sources

step "advisories: every lockfile against the RustSec snapshot, offline"
bash scripts/advisories.sh

step "agreement with the IAB reference library (@iabtechlabtcf/core)"
cargo build --locked -p nexaguard-cli
npm ci --prefix tests/reference --no-audit --no-fund
NEXAGUARD_BIN="$PWD/target/debug/nexaguard" node --test tests/reference/

step "agreement with the IAB GPP reference library (@iabgpp/cmpapi)"
npm ci --prefix tests/reference-gpp --no-audit --no-fund
NEXAGUARD_BIN="$PWD/target/debug/nexaguard" node --test tests/reference-gpp/

step "browser SDK: types, unit tests, budgets, committed build matches a fresh one"
npm ci --prefix sdk --no-audit --no-fund
npm --prefix sdk run typecheck
NEXAGUARD_BIN="$PWD/target/debug/nexaguard" npm --prefix sdk test
npm --prefix sdk run size
npm --prefix sdk run check-dist

step "API contract: schemathesis against /v1/openapi.json, unauthenticated and as every token role"
# Pinned with hashes; the virtual environment under target/ is made once.
venv=target/contract-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version 4.32.5"; then
  python3 -m venv "$venv" || { apt-get install -y python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --require-hashes -r tests/contract/requirements.txt
fi
SCHEMATHESIS="$PWD/$venv/bin/schemathesis" NEXAGUARD_BIN="$PWD/target/debug/nexaguard" \
  python3 tests/contract/run.py

step "Google Tag Manager template under an emulation of GTM's sandbox"
node --test integrations/gtm/test/

step "tools the server tests use"
if ! command -v openssl >/dev/null 2>&1; then
  apt-get install -y openssl
fi

step "cargo test"
cargo test --workspace --locked

step "browser tests: the SDK against the real server in headless Chromium"
if [ ! -x /usr/bin/chromium ]; then
  apt-get install -y chromium
fi
cargo build --locked -p nexaguard-cli
npm ci --prefix tests/browser --no-audit --no-fund
NEXAGUARD_BIN="$PWD/target/debug/nexaguard" node --test tests/browser/

step "WordPress plugin against a real WordPress (Debian's package, MariaDB, Chromium)"
bash integrations/wordpress/test/run.sh

step "the run left the tree as it found it"
# Tests write their artefacts (screenshots, data directories) under target/
# or a temporary directory; the docs' screenshots change only through
# `npm --prefix tests/browser run screenshots`. Checked where the tree
# starts clean (CI's fresh clone); a developer's own edits are theirs.
if [ "${CI:-}" = true ]; then
  # Tracked files anywhere, and new files where the project's own sources
  # live (not the CI runner's files beside them).
  changed=$(git status --porcelain --untracked-files=no;
    git status --porcelain --untracked-files=normal -- bench crates docs integrations scripts sdk tests | grep '^??' || true)
  if [ -n "$changed" ]; then
    echo "the test run changed the tree:" >&2
    echo "$changed" >&2
    exit 1
  fi
fi
