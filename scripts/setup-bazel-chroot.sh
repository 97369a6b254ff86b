#!/usr/bin/env bash
# Makes Bazel 7 usable on this Debian 12 machine: a Debian sid chroot with `bazel-bootstrap` (7.7.1) and
# `nodejs`, cached under a fixed directory so later runs (and CI steps) reuse it. Idempotent: when the
# chroot is present and mounted it only checks and exits within a second.
#
#   bash scripts/setup-bazel-chroot.sh            # create (about 1 minute the first time) and mount
#   bash scripts/setup-bazel-chroot.sh --unmount  # undo the mounts (the chroot stays cached)
#   $IMG_BAZEL_CHROOT/bin/bazel build //...       # run Bazel inside the chroot, from the current directory
#
# Why a chroot: Debian 12 has only Bazel 4, npm only Bazel 2.1, and bcr.bazel.build / GitHub are not
# reachable; only sid packages Bazel 7 (see shared/design/environment.md section 1c).
# Mounts: proc, /dev, the repository and /tmp at the same paths inside the chroot, so a path means the
# same thing on both sides (tests create workspaces and output bases under /tmp).
# Offline Bzlmod: stub modules for apple_support, zlib, buildozer and protobuf (only referenced by
# Debian's bundled modules) and --lockfile_mode=off; offline WORKSPACE mode: --override_repository for
# the rule sets Bazel's WORKSPACE suffix downloads. All go into the chroot's system bazelrc, not into
# the example workspaces, which stay what a user with network access would write.
set -euo pipefail

# The repository is mounted at both its physical path (what Node's module paths and getcwd() give the
# tests) and the path it was reached by, when a symlink makes them differ.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPO_LOGICAL="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHROOT_BASE="${IMG_BAZEL_CHROOT:-/var/cache/img-bazel-chroot}"
ROOT="$CHROOT_BASE/root"
MIRROR="${IMG_BAZEL_CHROOT_MIRROR:-http://deb.debian.org/debian}"
# Bump when the chroot's content recipe changes, so a cached chroot from an older recipe is rebuilt.
RECIPE="img-bazel-chroot v1: sid minbase + bazel-bootstrap nodejs + offline stubs"
STAMP="$ROOT/etc/img-bazel-chroot.stamp"

log() { printf '[setup-bazel-chroot] %s\n' "$*"; }

retry() {
  local attempt
  for attempt in 1 2 3; do
    if "$@"; then return 0; fi
    if [ "$attempt" -lt 3 ]; then log "attempt $attempt failed: $*; retrying in $((attempt * 5)) s"; sleep $((attempt * 5)); fi
  done
  return 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-bazel-chroot: must run as root (debootstrap, chroot and mount need it)" >&2
  exit 1
fi

# One run at a time (test set-ups of several packages may call this at once).
mkdir -p "$CHROOT_BASE"
exec 9>"$CHROOT_BASE/.lock"
flock 9

mounted() { mountpoint -q "$1"; }

same_dir() { # same_dir A B: both exist and are the same directory (device and inode)
  [ -d "$1" ] && [ -d "$2" ] && [ "$(stat -L -c %d:%i "$1")" = "$(stat -L -c %d:%i "$2")" ]
}

deleted_mount() { # deleted_mount PATH: a mount at PATH whose source directory was deleted ("…//deleted")
  awk -v p="$1" '$5 == p && $4 ~ /\/\/deleted$/ { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# Lazily unmounts the mounts at PATH and at its ancestors below $ROOT whose source was deleted (an
# earlier checkout at the same path, removed and cloned again): mount(2) over such a mount, and mkdir
# below it, fail with ENOENT.
unmount_stale() { # unmount_stale PATH
  local p="$1"
  while [ "${#p}" -gt "${#ROOT}" ]; do
    while deleted_mount "$p"; do
      log "replacing a stale mount at $p"
      umount -l "$p" || break
    done
    p="$(dirname "$p")"
  done
}

bind_mount() { # bind_mount HOST_DIR: make HOST_DIR visible at the same path inside the chroot
  local src="$1" dst="$ROOT$1"
  # Already visible (mounted, or inside another bind mount such as /tmp): nothing to do. A foreign
  # mount at the path does not count; the new mount goes on top of it.
  same_dir "$src" "$dst" && return 0
  unmount_stale "$dst"
  mkdir -p "$dst"
  mount --bind "$src" "$dst"
}

unmount_all() { # every mount below $ROOT, deepest first (also those of earlier checkouts)
  local target
  awk -v root="$ROOT/" 'index($2, root) == 1 { print length($2), $2 }' /proc/self/mounts |
    sort -rn | cut -d' ' -f2- | while read -r target; do
      target="$(printf '%b' "$target")" # /proc/self/mounts escapes spaces as \040
      umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
    done
}

# Directories the tests share with Bazel inside the chroot: /tmp, $TMPDIR (os.tmpdir()) and the repo.
shared_dirs() {
  local d
  for d in /tmp "${TMPDIR:-}" "$REPO_ROOT" "$REPO_LOGICAL"; do
    if [ -n "$d" ] && [ -d "$d" ]; then printf '%s\n' "$d" "$(cd "$d" && pwd -P)"; fi
  done | awk '!seen[$0]++'
}

mount_all() {
  mkdir -p "$ROOT/proc" "$ROOT/dev"
  [ -e "$ROOT/proc/self" ] || mount -t proc proc "$ROOT/proc"
  if [ ! -c "$ROOT/dev/null" ] || ! mounted "$ROOT/dev"; then
    mount --rbind /dev "$ROOT/dev"
    mount --make-rslave "$ROOT/dev"
  fi
  local d
  while read -r d; do bind_mount "$d"; done < <(shared_dirs)
}

# Fails, printing what is mounted, unless each shared directory is the same inside the chroot.
verify_mounts() {
  local d bad=0
  while read -r d; do
    if ! same_dir "$d" "$ROOT$d"; then
      log "not visible inside the chroot: $d (at $ROOT$d)"
      bad=1
    fi
  done < <(shared_dirs)
  [ -e "$ROOT/proc/self" ] || { log "no /proc inside the chroot"; bad=1; }
  if [ "$bad" -ne 0 ]; then
    log "mounts below $ROOT:"
    grep -F " $ROOT" /proc/self/mounts >&2 || true
    exit 1
  fi
}

# The host's local certificate authorities (/usr/local/share/ca-certificates/*.crt: a corporate or
# egress proxy's CA) trusted inside the chroot too, for Bazel's own downloader (Java: without this an
# http_archive fails with "PKIX path building failed"). Runs on every call, not part of RECIPE: it
# copies what changed and re-runs update-ca-certificates (whose ca-certificates-java hook refreshes
# Java's store) only when the set differs from the one recorded last time.
trust_host_cas() {
  local src=/usr/local/share/ca-certificates dst="$ROOT/usr/local/share/ca-certificates"
  local marker="$ROOT/etc/img-bazel-chroot.cas" f want have=""
  want="$(cd "$src" 2>/dev/null && find . -maxdepth 1 -name '*.crt' -type f -print0 | sort -z | xargs -0r sha256sum)" || want=""
  [ -f "$marker" ] && have="$(cat "$marker")"
  [ "$want" = "$have" ] && return 0
  mkdir -p "$dst"
  for f in "$src"/*.crt; do
    [ -f "$f" ] && cp "$f" "$dst/"
  done
  if ! chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin update-ca-certificates >"$CHROOT_BASE/ca.log" 2>&1; then
    tail -20 "$CHROOT_BASE/ca.log" >&2
    log "update-ca-certificates failed inside the chroot"
    exit 1
  fi
  printf '%s' "$want" >"$marker"
  log "trusted $(printf '%s' "$want" | grep -c . || true) host CA certificate(s) inside the chroot"
}

if [ "${1:-}" = "--unmount" ]; then
  unmount_all
  log "unmounted $ROOT"
  exit 0
fi

write_offline_config() { # offline Bzlmod stubs + system bazelrc additions, inside the chroot
  local stubs="$ROOT/opt/img-bazel/stubs" m
  for m in apple_support zlib buildozer protobuf; do
    mkdir -p "$stubs/$m"
    printf 'module(name = "%s")\n' "$m" >"$stubs/$m/MODULE.bazel"
    : >"$stubs/$m/BUILD.bazel"
  done
  local rc="$ROOT/etc/bazel/bazelrc" begin="# >>> img-bazel-chroot" end="# <<< img-bazel-chroot"
  if [ -f "$rc" ]; then sed -i "/^$begin/,/^$end/d" "$rc"; fi
  {
    echo "$begin (written by scripts/setup-bazel-chroot.sh: no network to the BCR here)"
    echo "common --lockfile_mode=off"
    for m in apple_support zlib buildozer protobuf; do
      echo "common --override_module=$m=/opt/img-bazel/stubs/$m"
    done
    # WORKSPACE mode: the repositories Bazel's WORKSPACE suffix would download from GitHub, taken
    # from the copies Debian ships (the same ones its --override_module flags use for Bzlmod).
    echo "common --override_repository=rules_cc=/usr/share/bazel/rules/cc"
    echo "common --override_repository=rules_java=/usr/share/bazel/rules/java"
    echo "common --override_repository=rules_python=/usr/share/bazel/rules/python"
    echo "common --override_repository=rules_proto=/usr/share/bazel/rules/proto"
    echo "common --override_repository=rules_license=/usr/share/bazel/rules/license"
    echo "common --override_repository=bazel_skylib=/usr/share/bazel/tools/skylib"
    echo "common --override_repository=bazel_features=/usr/share/bazel/tools/features"
    # Debian sets --sandbox_debug, which floods stderr with linux-sandbox lines.
    echo "build --nosandbox_debug"
    echo "$end"
  } >>"$rc"
}

create_chroot() {
  local tmp="$CHROOT_BASE/root.partial"
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    retry apt-get update -qq
    retry apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  # A half-made chroot from an interrupted run: unmount whatever it had and start again.
  for m in "$tmp/proc" "$tmp/dev"; do
    if mounted "$m"; then umount -R "$m" 2>/dev/null || umount -l "$m"; fi
  done
  rm -rf --one-file-system "$tmp"
  mkdir -p "$CHROOT_BASE"
  log "debootstrap sid into $tmp"
  retry debootstrap --variant=minbase sid "$tmp" "$MIRROR" >"$CHROOT_BASE/debootstrap.log" 2>&1 ||
    { tail -20 "$CHROOT_BASE/debootstrap.log" >&2; exit 1; }
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  mount -t proc proc "$tmp/proc"
  mount --rbind /dev "$tmp/dev"
  mount --make-rslave "$tmp/dev"
  log "installing bazel-bootstrap and nodejs in the chroot"
  # The sid mirror's Release file often lags the clock ("is expired"), hence Check-Valid-Until=false.
  local status=0
  chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive bash -c '
      set -e
      for i in 1 2 3; do apt-get -qq -o Acquire::Check-Valid-Until=false update && break; sleep 5; done
      for i in 1 2 3; do
        apt-get install -y -qq --no-install-recommends bazel-bootstrap nodejs >/dev/null && break; sleep 5
      done
      apt-get clean
      bazel --version >/dev/null && node --version >/dev/null' || status=$?
  umount "$tmp/proc" || umount -l "$tmp/proc"
  umount -R "$tmp/dev" 2>/dev/null || umount -l "$tmp/dev"
  if [ "$status" -ne 0 ]; then
    log "installing packages in the chroot failed (exit $status)"
    exit "$status"
  fi
  # Publish the finished tree under its final name only now, so $ROOT is never half made.
  if [ -d "$ROOT" ]; then
    unmount_all
    rm -rf --one-file-system "$ROOT"
  fi
  mv "$tmp" "$ROOT"
}

build_chroot() {
  local start=$SECONDS
  create_chroot
  write_offline_config
  printf '%s\n' "$RECIPE" >"$STAMP"
  log "chroot ready in $((SECONDS - start)) s"
}

tools_run() { # bazel and node start inside the chroot
  local tool
  for tool in bazel node; do
    if ! chroot "$ROOT" "$tool" --version >/dev/null 2>&1; then
      log "$tool does not run inside $ROOT"
      return 1
    fi
  done
}

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$RECIPE" ]; then
  build_chroot
else
  write_offline_config
fi

# bin/bazel: run Bazel inside the chroot from the same working directory, with a clean environment.
mkdir -p "$CHROOT_BASE/bin"
cat >"$CHROOT_BASE/bin/bazel.tmp" <<EOF
#!/usr/bin/env bash
# Generated by scripts/setup-bazel-chroot.sh: Bazel 7 inside the sid chroot at $ROOT.
exec chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \\
  \${IMG_BAZEL_ENV:-} /bin/bash -c 'cd "\$0" && exec bazel "\$@"' "\$(pwd -P)" "\$@"
EOF
chmod 755 "$CHROOT_BASE/bin/bazel.tmp"
mv "$CHROOT_BASE/bin/bazel.tmp" "$CHROOT_BASE/bin/bazel"

mount_all
if ! tools_run; then
  # A cached chroot that no longer works (copied without some of its files, say): make it again.
  log "rebuilding the cached chroot"
  unmount_all
  build_chroot
  mount_all
  tools_run
fi
trust_host_cas
verify_mounts
log "bazel $(chroot "$ROOT" bazel --version 2>/dev/null | awk '{print $2}'), node $(chroot "$ROOT" node --version) at $ROOT; run with $CHROOT_BASE/bin/bazel"
