"""Public API for Bzlmod: the img_node module extension. Re-exports from //img/private."""

load("//img/private:extensions.bzl", _img_node = "img_node")

img_node = _img_node
