"""Public API: image_structure_test. Re-exports from //img/private."""

load("//img/private:structure_test.bzl", _image_structure_test = "image_structure_test")

image_structure_test = _image_structure_test
