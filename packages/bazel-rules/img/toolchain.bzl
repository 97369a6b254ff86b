"""Public API: the img toolchain rule, for registering a custom toolchain. Re-exports from //img/private."""

load("//img/private:toolchain.bzl", _ImgToolInfo = "ImgToolInfo", _img_toolchain = "img_toolchain")

img_toolchain = _img_toolchain
ImgToolInfo = _ImgToolInfo
