#!/usr/bin/env bash
# Installs what the tests need when missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
MCP_GEN_DEPS=test source scripts/deps.sh
swift build --build-tests
swift test --skip-build "$@"
