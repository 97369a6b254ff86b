"""WORKSPACE-mode set-up: the img toolchain repository and its registration."""

load(":node_repository.bzl", "img_node_repository")

def img_register_toolchains(name = "img_rules_node", node = None):
    """Create the img toolchain repository and register its toolchain.

    Args:
      name: repository name.
      node: optional label of a hermetic node binary; default finds node (>= 20.18) on the host.
    """
    img_node_repository(name = name, node = node)
    native.register_toolchains("@%s//:toolchain" % name)
