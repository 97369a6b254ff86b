"""Public API for WORKSPACE mode. Re-exports from //img/private.

    load("@img_rules//img:repositories.bzl", "img_register_toolchains")
    img_register_toolchains()                           # official Node.js, downloaded and pinned
    img_register_toolchains(node_version = "20.20.2")   # another version of the table
    img_register_toolchains(host_node = True)           # opt-in: the host's node (>= 20.18)
"""

load("//img/private:repositories.bzl", _img_register_toolchains = "img_register_toolchains")

img_register_toolchains = _img_register_toolchains
