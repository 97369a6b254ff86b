"""Rules used by the repository a `pull` generates: a pulled (shallow) image or index as providers."""

load("//img/private/providers:index_info.bzl", "ImageIndexInfo")
load("//img/private/providers:layer_info.bzl", "LayerInfo")
load("//img/private/providers:manifest_info.bzl", "ImageManifestInfo")

def _sources(values):
    out = []
    for s in values:
        registry, _, repository = s.partition("/")
        out.append(struct(registry = registry, repository = repository))
    return out

def _pulled_manifest_impl(ctx):
    sources = _sources(ctx.attr.sources)
    layers = [
        LayerInfo(blob = None, metadata = f, media_type = media_type, estargz = False, sources = sources)
        for f, media_type in zip(ctx.files.layers, ctx.attr.media_types)
    ]
    return [
        DefaultInfo(files = depset([ctx.file.manifest, ctx.file.config])),
        ImageManifestInfo(
            manifest = ctx.file.manifest,
            config = ctx.file.config,
            descriptor = ctx.file.descriptor,
            digest = ctx.file.digest,
            os = ctx.attr.os,
            architecture = ctx.attr.architecture,
            variant = ctx.attr.variant,
            layers = layers,
        ),
    ]

pulled_manifest = rule(
    implementation = _pulled_manifest_impl,
    doc = "One image of a `pull` repository: manifest and config files; its layers are shallow (metadata + sources).",
    attrs = {
        "manifest": attr.label(allow_single_file = True, mandatory = True),
        "config": attr.label(allow_single_file = True, mandatory = True),
        "descriptor": attr.label(allow_single_file = True, mandatory = True),
        "digest": attr.label(allow_single_file = True, mandatory = True),
        "os": attr.string(mandatory = True),
        "architecture": attr.string(mandatory = True),
        "variant": attr.string(),
        "layers": attr.label_list(allow_files = [".json"], doc = "Layer metadata JSON files, in manifest order."),
        "media_types": attr.string_list(doc = "Media type of each layer."),
        "sources": attr.string_list(doc = "registry/repository holding the layers."),
    },
)

def _pulled_index_impl(ctx):
    return [
        DefaultInfo(files = depset([ctx.file.index])),
        ImageIndexInfo(
            index = ctx.file.index,
            descriptor = ctx.file.descriptor,
            digest = ctx.file.digest,
            manifests = [m[ImageManifestInfo] for m in ctx.attr.manifests],
        ),
    ]

pulled_index = rule(
    implementation = _pulled_index_impl,
    doc = "The index of a multi-platform `pull` repository.",
    attrs = {
        "index": attr.label(allow_single_file = True, mandatory = True),
        "descriptor": attr.label(allow_single_file = True, mandatory = True),
        "digest": attr.label(allow_single_file = True, mandatory = True),
        "manifests": attr.label_list(providers = [ImageManifestInfo]),
    },
)
