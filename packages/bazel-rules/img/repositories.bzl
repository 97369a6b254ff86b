"""Public API for WORKSPACE mode. Re-exports from //img/private.

    load("@img_rules//img:repositories.bzl", "img_register_toolchains")
    img_register_toolchains()                                  # host node >= 20.18
    img_register_toolchains(node = "@node22//:bin/node")       # or a hermetic node
"""

load("//img/private:repositories.bzl", _img_register_toolchains = "img_register_toolchains")

img_register_toolchains = _img_register_toolchains
