"""Module extension creating the img toolchain repository (@img_rules_node)."""

load(":node_repository.bzl", "img_node_repository")
load(":pull.bzl", "LAYER_HANDLING_DOC", "LAYER_HANDLING_VALUES", "pull")

_toolchain_tag = tag_class(
    doc = "Use a hermetic Node.js for img actions instead of the host's node. Only the root module's tag counts.",
    attrs = {
        "node": attr.label(doc = "Label of a node binary, e.g. @nodejs_linux_amd64//:bin/node", mandatory = True),
    },
)

def _img_node_impl(mctx):
    node = None
    for mod in mctx.modules:
        if mod.is_root and mod.tags.toolchain:
            if len(mod.tags.toolchain) > 1:
                fail("img_node.toolchain: give it once in the root module")
            node = mod.tags.toolchain[0].node
    img_node_repository(name = "img_rules_node", node = node)

img_node = module_extension(
    implementation = _img_node_impl,
    tag_classes = {"toolchain": _toolchain_tag},
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
