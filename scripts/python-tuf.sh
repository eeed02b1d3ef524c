#!/usr/bin/env bash
# Makes .build-venv/ (gitignored) with python-tuf, the reference TUF implementation, when it is
# missing, and prints the path of its python. The remote tests use it as the independent peer:
# its Metadata API writes and signs repositories, its ngclient downloads from ours.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-venv
if ! "$venv/bin/python" -c 'import tuf.ngclient, tuf.api.metadata, cryptography' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'tuf>=5' 'securesystemslib[crypto]' >&2
fi
echo "$PWD/$venv/bin/python"
