#!/usr/bin/env bash
# Installs the independent clients `make test` drives (Debian packages) when
# they are missing, so a fresh machine runs every test instead of skipping
# the ones whose client is absent. Without root or apt-get it only says
# which are missing: the tests then install or skip them one by one, loudly.
set -u
need=()
have() { command -v "$1" >/dev/null 2>&1; }
pymod() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
have curl || need+=(curl)
have chromium || need+=(chromium)
have nc || need+=(netcat-openbsd)
have python3 || need+=(python3)
have tshark || need+=(tshark)
have thonny || need+=(thonny)
pymod serial || need+=(python3-serial)
pymod websocket || need+=(python3-websocket)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! have apt-get; then
	echo "test-deps: missing ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2
	exit 0
fi
echo "test-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
	{ apt-get update -q >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; } ||
	echo "test-deps: could not install ${need[*]}; the tests that need them will say so" >&2
exit 0
