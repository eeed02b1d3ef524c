#!/usr/bin/env bash
# Mutation check: every deliberate bug in scripts/mutants/*.patch must be caught by the tests
# named for it, or a test that should guard a promise does not.
#
# Each patch starts with two lines before its diff:
#   Mutant: what the bug is
#   Tests: a `swift test --filter` pattern naming the tests that must catch it
#
# The patches are applied one after another to ONE scratch copy of the tree in
# .build-mutants/tree (never to the working tree), which keeps its own .build across mutants and
# runs: each mutant costs an incremental build and its tests only. The tests are first run on the
# unmutated copy (a test that fails there would "catch" every mutant).
#
# Prints one line per mutant (`killed` or `SURVIVED`) and `mutants: K killed, S survived`.
# Exits 1 if a mutant survives, a patch does not apply (or does not build, or names no test),
# or a named test fails on the unmutated tree. Logs: .build-mutants/logs/.
#
# A new mutant: make the bug in the working tree, `git diff -- FILE > scripts/mutants/NN-name.patch`,
# `git checkout -- FILE`, then put the two lines above the diff. Keep each to one small change.
#
# Usage: scripts/mutants.sh [PATTERN]   (only the patches whose file name matches PATTERN)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
MCP_GEN_DEPS=test source scripts/deps.sh
command -v strace >/dev/null || { echo "mutants: strace is needed (the fsync-order tests kill several mutants)" >&2; exit 1; }

work=$top/.build-mutants
tree=$work/tree
logs=$work/logs
only=${1:-}
# Keeps git from taking the scratch tree (inside this repository) for part of it: `git apply`
# then patches files relative to the tree, like patch(1).
export GIT_CEILING_DIRECTORIES=$work
started=$(date +%s)

# The scratch tree: the tracked and untracked (not ignored) files of the working tree, with their
# modification times, so an unchanged file is not rebuilt. Everything but its .build is replaced.
mkdir -p "$tree" "$logs"
find "$tree" -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} +
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xpf - -C "$tree"
[ -f Package.resolved ] && cp -p Package.resolved "$tree/"

patches=()
for p in scripts/mutants/*.patch; do
  [ -z "$only" ] || [[ "$(basename "$p")" == *$only* ]] || continue
  patches+=("$p")
done
[ ${#patches[@]} -gt 0 ] || { echo "mutants: no patch matches '$only'" >&2; exit 1; }

field() { sed -n "s/^$2: //p" "$1" | head -n 1; }

# Runs the tests matching $1 in the scratch tree, output to $2. Returns 0 when they pass, 1 when
# one fails, 2 when the pattern matched no test (a renamed test would otherwise let every mutant
# survive).
run_tests() {
  local status=0
  (cd "$tree" && swift test --skip-build --filter "$1") >"$2" 2>&1 || status=1
  # A failure (or a crash, which prints no summary) is a failure; a pass must have run something.
  [ $status -ne 0 ] || grep -Eq 'Test run with [1-9][0-9]* tests?' "$2" || return 2
  return $status
}

build() { (cd "$tree" && swift build --build-tests) >"$1" 2>&1; }

# Unmutated: everything builds and every named test passes.
filters=()
for p in "${patches[@]}"; do
  f=$(field "$p" Tests)
  [ -n "$f" ] || { echo "mutants: $p has no 'Tests:' line" >&2; exit 1; }
  filters+=("$f")
done
union=$(IFS='|'; echo "${filters[*]}")
if ! build "$logs/baseline-build.log"; then
  echo "mutants: the unmutated tree does not build (see $logs/baseline-build.log)" >&2
  exit 1
fi
if ! run_tests "$union" "$logs/baseline-tests.log"; then  # 1 or 2: either is not a baseline
  echo "mutants: the named tests do not all pass on the unmutated tree (see $logs/baseline-tests.log)" >&2
  exit 1
fi

killed=0
survived=0
broken=0
failed_names=()
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  filter=$(field "$p" Tests)
  log=$logs/$name.log
  t0=$(date +%s)
  if ! (cd "$tree" && git apply --check "$top/$p") 2>"$log"; then
    echo "BROKEN   $name: the patch no longer applies (see $log)"
    broken=$((broken + 1)); failed_names+=("$name"); continue
  fi
  (cd "$tree" && git apply "$top/$p")
  status=0
  if ! build "$log"; then
    status=3
  else
    run_tests "$filter" "$log.tests" || status=$?
    cat "$log.tests" >>"$log" && rm -f "$log.tests"
  fi
  # Revert before anything else, so the next mutant starts from the unmutated tree.
  (cd "$tree" && git apply -R "$top/$p") || { echo "mutants: could not revert $name in $tree" >&2; exit 1; }
  seconds=$(( $(date +%s) - t0 ))
  case $status in
    0) echo "SURVIVED $name ($filter, ${seconds} s; see $log)"; survived=$((survived + 1)); failed_names+=("$name") ;;
    1) echo "killed   $name ($filter, ${seconds} s)"; killed=$((killed + 1)) ;;
    2) echo "BROKEN   $name: no test matches '$filter'"; broken=$((broken + 1)); failed_names+=("$name") ;;
    *) echo "BROKEN   $name: the mutated tree does not build (see $log)"; broken=$((broken + 1)); failed_names+=("$name") ;;
  esac
done

echo "mutants: $killed killed, $survived survived$([ $broken -eq 0 ] || echo ", $broken broken")"
echo "mutants: took $(( $(date +%s) - started )) s"
if [ ${#failed_names[@]} -gt 0 ]; then
  echo "mutants: failed: ${failed_names[*]}" >&2
  exit 1
fi
