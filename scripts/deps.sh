# Installs what building and testing mcp-gen needs, only when missing (sourced by the scripts here).
# libcrypto headers (libssl-dev) and pkg-config for the CLibCrypto target; strace, util-linux
# (setpriv, flock) and e2fsprogs (chattr) for the reliability tests; python3 for one immutability
# test; git for add --git and switch --git; make for the install test (and `make install`);
# curl, nginx, faketime and python-tuf (scripts/python-tuf.sh) for the remote tests.
need=()
pkg-config --exists libcrypto 2>/dev/null || need+=(libssl-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ "${MCP_GEN_DEPS:-build}" = test ]; then
  command -v strace >/dev/null || need+=(strace)
  command -v chattr >/dev/null || need+=(e2fsprogs)
  command -v setpriv >/dev/null || need+=(util-linux)
  command -v python3 >/dev/null || need+=(python3)
  command -v git >/dev/null || need+=(git)
  command -v make >/dev/null || need+=(make)
  # Remote releases (issue 20): curl is the transport, nginx the real server of the tests,
  # faketime moves the conformance client's clock.
  command -v curl >/dev/null || need+=(curl)
  command -v nginx >/dev/null || need+=(nginx)
  command -v faketime >/dev/null || need+=(faketime)
  # The openssl program makes the encrypted and off-curve keys the crypto tests refuse.
  command -v openssl >/dev/null || need+=(openssl)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
fi
if [ "${MCP_GEN_DEPS:-build}" = test ]; then
  scripts/python-tuf.sh >/dev/null
fi
