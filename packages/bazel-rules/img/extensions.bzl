"""Public API for Bzlmod: the img_node and images module extensions. Re-exports from //img/private."""

load("//img/private:extensions.bzl", _images = "images", _img_node = "img_node")

img_node = _img_node
images = _images
