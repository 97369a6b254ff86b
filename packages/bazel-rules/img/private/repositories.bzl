"""WORKSPACE-mode set-up: the img toolchain repositories and their registration."""

load(":node_repository.bzl", "img_node_repositories")
load(":node_sources.bzl", "DEFAULT_NODE_URLS", "DEFAULT_NPM_REGISTRIES")
load(":node_versions.bzl", "DEFAULT_NODE_VERSION")

def img_register_toolchains(
        name = "img_rules_node",
        node_version = DEFAULT_NODE_VERSION,
        node_urls = DEFAULT_NODE_URLS,
        npm_registries = DEFAULT_NPM_REGISTRIES,
        sha256 = {},
        integrity = {},
        node = None,
        host_node = False):
    """Create the img toolchain repositories and register their toolchains.

    By default an official Node.js build (`node_version`) is downloaded for the exec platform, pinned
    by hash: from `node_urls` (nodejs.org/dist layout) first, then from `npm_registries`.

    Args:
      name: the toolchain repository (downloads are `<name>_<platform>`).
      node_version: official Node.js version; img_rules pins the hashes of some, others need sha256/integrity.
      node_urls: nodejs.org-layout URL templates with {version} and {filename}, tried in order.
      npm_registries: npm registries serving node-<os>-<arch>, tried after node_urls.
      sha256: exec platform (linux_amd64, ...) -> sha256 of the nodejs.org archive.
      integrity: exec platform -> npm dist.integrity.
      node: a node binary label instead of a download.
      host_node: True to run actions with the host's node (>= 20.18): an explicit, non-hermetic opt-in.
    """
    img_node_repositories(
        name = name,
        node_version = node_version,
        node_urls = node_urls,
        npm_registries = npm_registries,
        sha256 = sha256,
        integrity = integrity,
        node = node,
        host = host_node,
    )
    native.register_toolchains("@%s//:all" % name)
