"""Module extension creating the img toolchain repository (@img_rules_node)."""

load(":node_repository.bzl", "img_node_repository")

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
