#!/usr/bin/env bash
# The long reliability runs: the load test for 60 s (CI runs 20 s) and every reliability suite.
set -euo pipefail
cd "$(dirname "$0")/.."
MCP_GEN_DEPS=test source scripts/deps.sh
swift build --build-tests
MCP_GEN_LOAD_SECONDS=${MCP_GEN_LOAD_SECONDS:-60} swift test --skip-build \
  --filter "Load|KillPoint|FaultInjection|CrashTests|Hostile|Security|FullDisk|FsyncOrder|Concurrency"
