#!/usr/bin/env bash
# Builds the eStargz oracle (test/oracles/estargz: the reference Go library behind a small CLI) into
# <repo>/.tools/bin/estargz-oracle. The module is pinned in test/oracles/estargz/go.mod and go.sum.
# Idempotent: rebuilds only when the sources are newer than the binary. Test tooling only.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO_ROOT/test/oracles/estargz"
OUT="$REPO_ROOT/.tools/bin/estargz-oracle"

log() { printf '[build-estargz-oracle] %s\n' "$*"; }

if ! command -v go >/dev/null 2>&1; then
  echo "build-estargz-oracle: go is required but is not on PATH" >&2
  exit 1
fi

if [ -x "$OUT" ] && [ -z "$(find "$SRC" -newer "$OUT" -type f 2>/dev/null)" ]; then
  log "up to date: $OUT"
  exit 0
fi

mkdir -p "$(dirname "$OUT")"
log "building $OUT"
for attempt in 1 2 3; do
  if (cd "$SRC" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath -o "$OUT.tmp" .); then
    mv "$OUT.tmp" "$OUT"
    log "done"
    exit 0
  fi
  rm -f "$OUT.tmp"
  if [ "$attempt" -lt 3 ]; then log "attempt $attempt failed; retrying in $((attempt * 5)) s"; sleep $((attempt * 5)); fi
done
echo "build-estargz-oracle: go build failed" >&2
exit 1
