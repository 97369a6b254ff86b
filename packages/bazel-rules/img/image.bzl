"""Public API: image rules. Re-exports from //img/private."""

load("//img/private:image_from_binary.bzl", _image_from_binary = "image_from_binary")
load("//img/private:index.bzl", _image_index = "image_index")
load("//img/private:inherit.bzl", _INHERIT_FROM_BASE = "INHERIT_FROM_BASE")
load("//img/private:manifest.bzl", _image_manifest = "image_manifest")

image_manifest = _image_manifest
image_index = _image_index
INHERIT_FROM_BASE = _INHERIT_FROM_BASE
image_from_binary = _image_from_binary
