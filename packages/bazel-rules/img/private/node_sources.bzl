"""Where an official Node.js build comes from: the downloads to try for one version and exec platform.

Pure functions over the checked-in table (node_versions.bzl) and the user's overrides, so the URL and
hash choice for every platform is unit-tested (tests/node_toolchain) without downloading anything.
"""

load(":node_versions.bzl", "NODE_VERSIONS")

# nodejs.org/dist and its mirrors share one layout; `{version}` is e.g. 24.21.0, `{filename}` the
# archive (node-v24.21.0-linux-x64.tar.xz). Each archive is checked against the sha256 Node.js
# publishes in SHASUMS256.txt.
DEFAULT_NODE_URLS = ["https://nodejs.org/dist/v{version}/{filename}"]

# npm registries (or mirrors of one) serving the same builds as packages `node-<os>-<arch>`, checked
# against the integrity the registry publishes for that version.
DEFAULT_NPM_REGISTRIES = ["https://registry.npmjs.org"]

# The oldest Node.js the bundled CLI runs on.
MIN_NODE_VERSION = (20, 18, 0)

# Exec platforms a toolchain is registered for: the nodejs.org name (also the npm package suffix),
# the archive type on nodejs.org, and the @platforms constraints.
NODE_PLATFORMS = {
    "linux_amd64": struct(dist = "linux-x64", ext = "tar.xz", os = "linux", cpu = "x86_64"),
    "linux_arm64": struct(dist = "linux-arm64", ext = "tar.xz", os = "linux", cpu = "aarch64"),
    "darwin_amd64": struct(dist = "darwin-x64", ext = "tar.gz", os = "macos", cpu = "x86_64"),
    "darwin_arm64": struct(dist = "darwin-arm64", ext = "tar.gz", os = "macos", cpu = "aarch64"),
    "windows_amd64": struct(dist = "win-x64", ext = "zip", os = "windows", cpu = "x86_64"),
    "windows_arm64": struct(dist = "win-arm64", ext = "zip", os = "windows", cpu = "aarch64"),
}

_HEX = "0123456789abcdef"
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

def parse_node_version(text):
    """(major, minor, patch) of "24.21.0" (an optional leading v is allowed), or None."""
    parts = text.strip().lstrip("v").split(".")
    if len(parts) != 3 or not all([p.isdigit() for p in parts]):
        return None
    return (int(parts[0]), int(parts[1]), int(parts[2]))

def check_node_version(version):
    """An error message when `version` is not a usable Node.js version for img, else None."""
    v = parse_node_version(version)
    if v == None:
        return "node_version: %r is not a Node.js version such as 24.21.0" % version
    if v < MIN_NODE_VERSION:
        return "node_version: %s is older than %d.%d.%d, the oldest Node.js img runs on" % ((version,) + MIN_NODE_VERSION)
    return None

def node_platform_constraints(platform):
    """The @platforms constraint labels (strings) of an exec platform name such as linux_amd64."""
    p = NODE_PLATFORMS[platform]
    return ["@platforms//os:" + p.os, "@platforms//cpu:" + p.cpu]

def _is_sha256(value):
    return len(value) == 64 and all([c in _HEX for c in value.elems()])

def _is_integrity(value):
    algo, _, digest = value.partition("-")
    return algo in ("sha256", "sha384", "sha512") and digest != "" and all([c in _BASE64 for c in digest.elems()])

def check_node_overrides(sha256, integrity):
    """An error message for a malformed `sha256` / `integrity` override dict, else None."""
    for attr, values, ok, what in [
        ("sha256", sha256, _is_sha256, "64 lowercase hex digits"),
        ("integrity", integrity, _is_integrity, "an integrity such as sha512-<base64>"),
    ]:
        for platform, value in values.items():
            if platform not in NODE_PLATFORMS:
                return "%s: unknown platform %r (one of %s)" % (attr, platform, ", ".join(NODE_PLATFORMS.keys()))
            if not ok(value):
                return "%s[%r]: %r is not %s" % (attr, platform, value, what)
    return None

def node_sources(version, platform, node_urls = DEFAULT_NODE_URLS, npm_registries = DEFAULT_NPM_REGISTRIES, sha256 = "", integrity = ""):
    """The downloads to try, in order, for Node.js `version` on exec `platform`.

    First every nodejs.org-layout URL in `node_urls` (each checked against the archive's sha256),
    then every registry in `npm_registries` (each checked against the npm package's integrity).
    A source without a pinned hash (the table has none and no override gives one) is left out.

    Args:
      version: e.g. "24.21.0".
      platform: a key of NODE_PLATFORMS.
      node_urls: URL templates with {version} and {filename}.
      npm_registries: registry base URLs.
      sha256: override of the table's nodejs.org sha256 ("" keeps the table's).
      integrity: override of the table's npm integrity ("" keeps the table's).

    Returns:
      list of struct(url, file, sha256, integrity, strip_prefix, binary): `file` is the archive's
      name, exactly one of sha256 / integrity is set, `binary` is node's path after strip_prefix.
    """
    p = NODE_PLATFORMS[platform]
    windows = p.os == "windows"
    pinned = NODE_VERSIONS.get(version, {}).get(platform)
    dist_file = pinned[0] if pinned else "node-v%s-%s.%s" % (version, p.dist, p.ext)
    dist_sha256 = sha256 or (pinned[1] if pinned else "")
    npm_integrity = integrity or (pinned[2] if pinned else "")
    out = []
    if dist_sha256:
        for template in node_urls:
            out.append(struct(
                url = template.format(version = version, filename = dist_file),
                file = dist_file,
                sha256 = dist_sha256,
                integrity = "",
                strip_prefix = dist_file[:-len("." + p.ext)],
                binary = "node.exe" if windows else "bin/node",
            ))
    if npm_integrity:
        package = "node-" + p.dist
        npm_file = "%s-%s.tgz" % (package, version)
        for registry in npm_registries:
            out.append(struct(
                url = "%s/%s/-/%s" % (registry.rstrip("/"), package, npm_file),
                file = npm_file,
                sha256 = "",
                integrity = npm_integrity,
                strip_prefix = "package",
                binary = "bin/node.exe" if windows else "bin/node",
            ))
    return out

def check_node_urls(node_urls, npm_registries):
    """An error message for a URL template or registry that cannot work, else None."""
    for template in node_urls:
        if "{filename}" not in template:
            return "node_urls: %r has no {filename} (e.g. https://nodejs.org/dist/v{version}/{filename})" % template
        if not (template.startswith("https://") or template.startswith("http://") or template.startswith("file://")):
            return "node_urls: %r is not an http(s) or file URL" % template
    for registry in npm_registries:
        if not (registry.startswith("https://") or registry.startswith("http://") or registry.startswith("file://")):
            return "npm_registries: %r is not an http(s) or file URL" % registry
    if not node_urls and not npm_registries:
        return "node_urls and npm_registries are both empty: there is nowhere to download Node.js from"
    return None

def host_node_platform(os_name, arch):
    """The NODE_PLATFORMS key of the machine a repository rule runs on (repository_ctx.os), or None."""
    name = os_name.lower()
    if name.startswith("linux"):
        os = "linux"
    elif name.startswith("mac os") or name == "darwin":
        os = "darwin"
    elif name.startswith("windows"):
        os = "windows"
    else:
        return None
    cpu = {"amd64": "amd64", "x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(arch.lower())
    return "%s_%s" % (os, cpu) if cpu else None
