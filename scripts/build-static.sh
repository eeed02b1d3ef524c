#!/usr/bin/env bash
# Builds mcp-gen linked as statically as this machine allows, and prints on stdout how it was
# linked (one line). Arguments go to `swift build` (for example `-c release --scratch-path
# .build-bench --product mcp-gen`); its output goes to stderr. Used by `make install` and bench/.
#
# 1. static executable (`-Xswiftc -static-executable`): the Swift runtime, libcrypto and glibc
#    are linked in. The dynamic loader has nothing to load or relocate: on a 2-core VM that is
#    about 4 ms of every run, a quarter of a `switch`. Needs libcrypto.a (libssl-dev) and glibc's
#    static libraries (libc6-dev). The user name in the journal is still looked up through the
#    system's NSS modules, so build it with the glibc it runs with (`make install` does).
#    libcrypto is then part of the binary: rebuild after an OpenSSL update (mcp-gen uses only its
#    SHA-256).
# 2. static Swift stdlib (`--static-swift-stdlib`): the Swift runtime linked in; libcrypto and
#    the C and C++ runtimes shared.
# 3. shared: the installed binary then needs the Swift runtime libraries where it runs.
set -uo pipefail
swift=${SWIFT:-swift}

if "$swift" build "$@" -Xswiftc -static-executable >&2; then
  echo "static executable"
  exit 0
fi
echo "build-static: linking a static executable failed (libcrypto.a or glibc's static libraries missing?); trying --static-swift-stdlib" >&2
if "$swift" build "$@" --static-swift-stdlib >&2; then
  echo "static Swift stdlib"
  exit 0
fi
echo "build-static: --static-swift-stdlib failed too; building with the shared Swift runtime (the binary then needs the Swift runtime libraries where it runs)" >&2
"$swift" build "$@" >&2 || exit 1
echo "shared Swift runtime"
