"""Module extensions: img_node (the img toolchains, @img_rules_node) and images (pulled bases)."""

load(":node_repository.bzl", "img_node_repositories")
load(":node_sources.bzl", "DEFAULT_NODE_URLS", "DEFAULT_NPM_REGISTRIES")
load(":node_versions.bzl", "DEFAULT_NODE_VERSION")
load(":pull.bzl", "LAYER_HANDLING_DOC", "LAYER_HANDLING_VALUES", "pull")

_toolchain_tag = tag_class(
    doc = """Which official Node.js build img actions run with (default: the table's DEFAULT_NODE_VERSION,
downloaded from nodejs.org, else the npm registry). Only the root module's tag counts.""",
    attrs = {
        "node_version": attr.string(
            default = DEFAULT_NODE_VERSION,
            doc = "Official Node.js version. img_rules pins the hashes of some (node_versions.bzl); others need sha256/integrity.",
        ),
        "node_urls": attr.string_list(
            default = DEFAULT_NODE_URLS,
            doc = "nodejs.org-layout URL templates ({version}, {filename}), tried first and in order; add a company mirror here.",
        ),
        "npm_registries": attr.string_list(
            default = DEFAULT_NPM_REGISTRIES,
            doc = "npm registries serving node-<os>-<arch> packages, tried after node_urls.",
        ),
        "sha256": attr.string_dict(doc = "Exec platform (linux_amd64, ...) -> sha256 of the nodejs.org archive, from SHASUMS256.txt."),
        "integrity": attr.string_dict(doc = "Exec platform -> npm dist.integrity of node-<os>-<arch>@<version>."),
        "node": attr.label(doc = "A node binary instead of a download, e.g. @my_node//:bin/node (any exec platform)."),
    },
)

_host_tag = tag_class(
    doc = "Run img actions with the host's node (>= 20.18, $IMG_RULES_NODE or PATH) instead of a download. " +
          "Explicit opt-in: actions then depend on each machine's node (not hermetic, no remote execution). Root module only.",
    attrs = {},
)

def _img_node_impl(mctx):
    toolchain, host = None, False
    for mod in mctx.modules:
        if not mod.is_root:
            continue
        if len(mod.tags.toolchain) > 1:
            fail("img_node.toolchain: give it once in the root module")
        if mod.tags.toolchain:
            toolchain = mod.tags.toolchain[0]
        host = len(mod.tags.host) > 0
    if toolchain and host:
        fail("img_node: give either img_node.host() or img_node.toolchain(...), not both")
    if toolchain:
        img_node_repositories(
            name = "img_rules_node",
            node_version = toolchain.node_version,
            node_urls = toolchain.node_urls,
            npm_registries = toolchain.npm_registries,
            sha256 = toolchain.sha256,
            integrity = toolchain.integrity,
            node = toolchain.node,
        )
    else:
        img_node_repositories(name = "img_rules_node", host = host)

img_node = module_extension(
    implementation = _img_node_impl,
    doc = "The img toolchains (@img_rules_node): an official Node.js per exec platform, downloaded and pinned by hash.",
    tag_classes = {"toolchain": _toolchain_tag, "host": _host_tag},
)

_pull_tag = tag_class(
    doc = "Pull an image by digest into the repository `name` (use_repo(images, name)).",
    attrs = {
        "name": attr.string(doc = "Repository name.", mandatory = True),
        "registry": attr.string(doc = "Registry host[:port].", default = "index.docker.io"),
        "registries": attr.string_list(doc = "Mirrors tried in order before registry."),
        "repository": attr.string(doc = "Repository, e.g. library/ubuntu.", mandatory = True),
        "tag": attr.string(doc = "Informational; the digest decides what is pulled."),
        "digest": attr.string(doc = "Required: sha256:<64 hex> of the manifest or index."),
        "credential_helper": attr.string(doc = "A Bazel-protocol credential helper (workspace-relative path, absolute path or name on PATH)."),
        "layer_handling": attr.string(doc = LAYER_HANDLING_DOC, default = "shallow", values = LAYER_HANDLING_VALUES),
    },
)

def _images_impl(mctx):
    seen = {}
    for mod in mctx.modules:
        for tag in mod.tags.pull:
            if tag.name in seen:
                if seen[tag.name] != (tag.registry, tag.repository, tag.digest, tag.registries, tag.layer_handling):
                    fail("images.pull(name = %r): pulled twice with different images" % tag.name)
                continue
            seen[tag.name] = (tag.registry, tag.repository, tag.digest, tag.registries, tag.layer_handling)
            pull(name = tag.name, registry = tag.registry, registries = tag.registries, repository = tag.repository, tag = tag.tag, digest = tag.digest, credential_helper = tag.credential_helper, layer_handling = tag.layer_handling)

images = module_extension(
    implementation = _images_impl,
    doc = "Pulled base images for Bzlmod: images.pull(name, registry, repository, tag, digest), then use_repo(images, name).",
    tag_classes = {"pull": _pull_tag},
)
