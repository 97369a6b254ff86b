"""Public API: providers. Re-exports from //img/private/providers."""

load("//img/private/providers:index_info.bzl", _ImageIndexInfo = "ImageIndexInfo")
load("//img/private/providers:layer_info.bzl", _LayerInfo = "LayerInfo")
load("//img/private/providers:manifest_info.bzl", _ImageManifestInfo = "ImageManifestInfo")

LayerInfo = _LayerInfo
SingleLayerInfo = _LayerInfo
ImageManifestInfo = _ImageManifestInfo
ImageIndexInfo = _ImageIndexInfo
