#!/usr/bin/env bash
# Installs what the tests need when missing, builds, and runs every test.
# Then, in CI (CI set) or with MCP_GEN_MUTANTS=1, the mutation check (scripts/mutants.sh): each
# deliberate bug of scripts/mutants/ must be caught by the tests named for it. It builds its own
# scratch copy of the tree in .build-mutants/: about 5 minutes from cold on 2 cores (most of it
# the first build; each mutant then costs seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
MCP_GEN_DEPS=test source scripts/deps.sh
swift build --build-tests
swift test --skip-build "$@"
if [ -n "${CI:-}" ] || [ "${MCP_GEN_MUTANTS:-}" = 1 ]; then
  scripts/mutants.sh
fi
