"""Rules used by the repository a `pull` generates: a pulled (shallow) image or index as providers."""

load("//img/private/providers:index_info.bzl", "ImageIndexInfo")
load("//img/private/providers:layer_info.bzl", "LayerInfo")
load("//img/private/providers:manifest_info.bzl", "ImageManifestInfo")
load(":settings.bzl", "ImgSettingInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def _sources(values):
    out = []
    for s in values:
        registry, _, repository = s.partition("/")
        out.append(struct(registry = registry, repository = repository))
    return out

def _extension(media_type):
    if "gzip" in media_type:
        return ".tgz"
    if "zstd" in media_type:
        return ".tar.zst"
    return ".tar"

def _is_distributable(media_type):
    return "nondistributable" not in media_type and "foreign" not in media_type

def _pull_layer(ctx, j, metadata, media_type):
    """layer_handling = "lazy": one action downloads (and verifies) layer j from its sources."""
    tool = ctx.toolchains[TOOLCHAIN_TYPE].img
    blob = ctx.actions.declare_file("%s_layers/%d%s" % (ctx.label.name, j, _extension(media_type)))
    args = ctx.actions.args()
    args.add("pull-blob")
    args.add("--metadata=" + metadata.path)
    args.add_all(ctx.attr.sources, format_each = "--source=%s")
    args.add("--output=" + blob.path)
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    docker_config = ctx.attr._docker_config_path[ImgSettingInfo].value
    ctx.actions.run(
        executable = tool.node_executable or tool.node_path,
        arguments = [tool.img.path, args],
        tools = depset([tool.img], transitive = [tool.node_files]),
        inputs = [metadata],
        outputs = [blob],
        mnemonic = "ImgPullLayer",
        progress_message = "Downloading layer %d of %s" % (j, ctx.label),
        # The registry is on the network; not a worker (a shared worker should not hold connections).
        execution_requirements = {"requires-network": "1"},
        env = {"REGISTRY_AUTH_FILE": docker_config} if docker_config else {},
        toolchain = TOOLCHAIN_TYPE,
    )
    return blob

def _layer_blob(ctx, j, metadata, media_type):
    if ctx.attr.layer_handling == "eager":
        i = ctx.attr.blob_layers.index(j) if j in ctx.attr.blob_layers else -1
        return ctx.files.blobs[i] if i >= 0 else None
    if ctx.attr.layer_handling == "lazy" and _is_distributable(media_type):
        return _pull_layer(ctx, j, metadata, media_type)
    return None

def _pulled_manifest_impl(ctx):
    sources = _sources(ctx.attr.sources)
    layers = [
        LayerInfo(
            blob = _layer_blob(ctx, j, f, media_type),
            metadata = f,
            media_type = media_type,
            estargz = False,
            sources = sources,
        )
        for j, (f, media_type) in enumerate(zip(ctx.files.layers, ctx.attr.media_types))
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
    doc = "One image of a `pull` repository: manifest and config files; its layers (metadata + sources) with their blobs as layer_handling says.",
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
        "layer_handling": attr.string(default = "shallow", values = ["shallow", "eager", "lazy"]),
        "blobs": attr.label_list(allow_files = True, doc = "eager: the downloaded layer blobs in the repository."),
        "blob_layers": attr.int_list(doc = "eager: the layer index of each of `blobs`."),
        "_docker_config_path": attr.label(default = Label("//img/settings:docker_config_path"), providers = [ImgSettingInfo]),
    },
    toolchains = [TOOLCHAIN_TYPE],
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
