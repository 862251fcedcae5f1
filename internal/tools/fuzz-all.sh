#!/usr/bin/env bash
# Runs every fuzz target in the module for the given time each (default 60s).
# `make test` already runs each target's seed corpus; this digs deeper.
set -euo pipefail
dur="${1:-60s}"
cd "$(dirname "$0")/../.."
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $target ($dur)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$dur" -fuzzminimizetime 100x "$pkg"
  done
done
