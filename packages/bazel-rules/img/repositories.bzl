"""Public API for WORKSPACE mode. Re-exports from //img/private.

    load("@img_rules//img:repositories.bzl", "img_register_toolchains")
    img_register_toolchains()                                  # host node >= 20.18
    img_register_toolchains(node = "@node22//:bin/node")       # or a hermetic node
"""

load("//img/private:node_repository.bzl", "img_node_repository")

def img_register_toolchains(name = "img_rules_node", node = None):
    """Create the img toolchain repository and register its toolchain.

    Args:
      name: repository name.
      node: optional label of a hermetic node binary; default finds node on the host.
    """
    img_node_repository(name = name, node = node)
    native.register_toolchains("@%s//:toolchain" % name)
