"""Public API: image_load. Re-exports from //img/private."""

load("//img/private:deploy.bzl", _image_load = "image_load")

image_load = _image_load
