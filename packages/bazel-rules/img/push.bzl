"""Public API: image_push. Re-exports from //img/private."""

load("//img/private:deploy.bzl", _image_push = "image_push")

image_push = _image_push
