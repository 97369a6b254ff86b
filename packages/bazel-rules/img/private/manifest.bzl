"""image_manifest: a single-platform image from layer metadata (never from layer blobs)."""

load(":inherit.bzl", "INHERIT_FROM_BASE")
load(":layer.bzl", "annotation_args")
load(":layer_from_tar.bzl", "TAR_EXTENSIONS", "is_tar", "tar_layer")
load(":layout.bzl", "layout_output_groups")
load(":platforms.bzl", "PLATFORM_ATTRS", "platform_string", "platform_transition", "target_platform")
load("//img/private/providers:index_info.bzl", "ImageIndexInfo")
load("//img/private/providers:layer_info.bzl", "LayerInfo")
load("//img/private/providers:manifest_info.bzl", "ImageManifestInfo")
load(":run_img.bzl", "run_img")
load(":settings.bzl", "SETTINGS_ATTRS")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def _select_base(ctx, platform):
    base = ctx.attr.base
    if not base:
        return None
    if ImageManifestInfo in base:
        return base[ImageManifestInfo]
    for m in base[ImageIndexInfo].manifests:
        if m.os == platform.os and m.architecture == platform.architecture and (m.variant == platform.variant or not platform.variant):
            return m
    fail("base: %s has no manifest for %s (it has %s)" % (
        base.label,
        platform_string(platform),
        ", ".join([platform_string(m) for m in base[ImageIndexInfo].manifests]),
    ))

def _own_layers(ctx):
    layers = []
    for i, target in enumerate(ctx.attr.layers):
        if LayerInfo in target:
            layers.append(target[LayerInfo])
            continue
        files = target[DefaultInfo].files.to_list()
        tars = [f for f in files if is_tar(f)]
        if not tars or len(tars) != len(files):
            fail("layers: %s provides no LayerInfo and is not a tar file (%s)" % (target.label, ", ".join(TAR_EXTENSIONS)))
        for j, f in enumerate(tars):
            layers.append(tar_layer(ctx, f, "auto", "%s.layers/%d_%d_%s" % (ctx.label.name, i, j, f.basename.replace(".", "_"))))
    return layers

def _list_flag(args, values, attribute):
    """entrypoint/cmd: the sentinel alone inherits, [] unsets, a list sets."""
    if values == [INHERIT_FROM_BASE]:
        return None
    if INHERIT_FROM_BASE in values:
        fail("%s: %r mixed with other values is not supported by img_rules yet (the base config is read only at execution)" % (attribute, INHERIT_FROM_BASE))
    if not values:
        return {"Entrypoint" if attribute == "entrypoint" else "Cmd": []}
    for v in values:
        if "\n" in v:
            fail("%s: %r contains a newline" % (attribute, v))
        args.add("--%s=%s" % (attribute, v))
    return None

def _image_manifest_impl(ctx):
    platform = target_platform(ctx)
    base = _select_base(ctx, platform)
    layers = _own_layers(ctx)

    args = ctx.actions.args()
    args.add("manifest")
    args.add("--platform=" + platform_string(platform))
    inputs = []
    if base:
        args.add("--base-manifest=" + base.manifest.path)
        args.add("--base-config=" + base.config.path)
        inputs.extend([base.manifest, base.config])
    for layer in layers:
        args.add("--layer=" + layer.metadata.path)
        inputs.append(layer.metadata)

    fragment = {}
    for attribute in ("entrypoint", "cmd"):
        unset = _list_flag(args, getattr(ctx.attr, attribute), attribute)
        if unset:
            fragment.update(unset)
    if fragment:
        if ctx.file.config_fragment:
            fail("entrypoint/cmd = [] together with config_fragment: put the empty list into the fragment instead")
        generated = ctx.actions.declare_file(ctx.label.name + "_config_fragment.json")
        ctx.actions.write(generated, json.encode({"config": fragment}))
        args.add("--config-fragment=" + generated.path)
        inputs.append(generated)
    elif ctx.file.config_fragment:
        args.add("--config-fragment=" + ctx.file.config_fragment.path)
        inputs.append(ctx.file.config_fragment)
    for k, v in ctx.attr.env.items():
        if "=" in k or k == "" or "\n" in k or "\n" in v:
            fail("env: invalid variable %r" % k)
        args.add("--env=%s=%s" % (k, v))
    if ctx.attr.user:
        args.add("--user=" + ctx.attr.user)
    if ctx.attr.working_dir:
        args.add("--workdir=" + ctx.attr.working_dir)
    if ctx.attr.stop_signal:
        args.add("--stop-signal=" + ctx.attr.stop_signal)
    if ctx.attr.created:
        args.add("--created=" + ctx.attr.created)
    annotation_args(args, ctx.attr.labels, "labels", "--label")
    annotation_args(args, ctx.attr.annotations)

    prefix = ctx.label.name
    manifest = ctx.actions.declare_file(prefix + "_manifest.json")
    config = ctx.actions.declare_file(prefix + "_config.json")
    descriptor = ctx.actions.declare_file(prefix + "_descriptor.json")
    digest = ctx.actions.declare_file(prefix + "_digest")
    args.add("--manifest=" + manifest.path)
    args.add("--config=" + config.path)
    args.add("--descriptor=" + descriptor.path)
    args.add("--digest=" + digest.path)
    run_img(
        ctx,
        mnemonic = "ImgManifest",
        args = args,
        inputs = inputs,
        outputs = [manifest, config, descriptor, digest],
        progress_message = "Assembling image manifest %{label}",
    )
    info = ImageManifestInfo(
        manifest = manifest,
        config = config,
        descriptor = descriptor,
        digest = digest,
        os = platform.os,
        architecture = platform.architecture,
        variant = platform.variant,
        layers = (base.layers if base else []) + layers,
    )
    groups = layout_output_groups(ctx, None, [info])
    return [
        DefaultInfo(files = depset([manifest, config])),
        info,
        OutputGroupInfo(
            descriptor = depset([descriptor]),
            digest = depset([digest]),
            root_blob = depset([manifest]),
            **groups
        ),
    ]

image_manifest = rule(
    implementation = _image_manifest_impl,
    doc = """A single-platform OCI image: config + manifest assembled from layer metadata only.

The platform is the target platform's (@platforms//os and //cpu constraints), or `platform`'s.
Outputs `<name>_manifest.json`, `<name>_config.json` (default outputs), `<name>_descriptor.json`,
`<name>_digest`; output groups `descriptor`, `digest`, `root_blob`, `oci_layout` (a directory),
`oci_tarball`.""",
    attrs = dict({
        "base": attr.label(doc = "Base image: an image_manifest or image_index (the matching platform is used).", providers = [[ImageManifestInfo], [ImageIndexInfo]]),
        "layers": attr.label_list(doc = "Layers, bottom to top: targets with LayerInfo, or tar files (hashed on the fly).", allow_files = TAR_EXTENSIONS),
        "platform": attr.label(doc = "Build this image (and its layers) for this platform instead of the target platform."),
        "config_fragment": attr.label(doc = "JSON file: a partial OCI image config merged over the base's.", allow_single_file = [".json"]),
        "entrypoint": attr.string_list(doc = "Entrypoint; default inherits the base's; [] unsets it. Setting it clears an inherited cmd.", default = [INHERIT_FROM_BASE]),
        "cmd": attr.string_list(doc = "Cmd; default inherits the base's; [] unsets it.", default = [INHERIT_FROM_BASE]),
        "env": attr.string_dict(doc = "Environment; a variable the base has is replaced in place, new ones are appended."),
        "user": attr.string(doc = "User (and group) the container runs as; empty inherits."),
        "working_dir": attr.string(doc = "Working directory; empty inherits."),
        "labels": attr.string_dict(doc = "Config labels, merged over the base's."),
        "annotations": attr.string_dict(doc = "Manifest annotations."),
        "stop_signal": attr.string(doc = "Stop signal, e.g. SIGTERM; empty inherits."),
        "created": attr.string(doc = "The config's `created` time, RFC 3339 (e.g. 2024-01-01T00:00:00Z); empty omits it, keeping builds reproducible."),
        "stamp": attr.string(doc = "Stamping of templated values (accepted; templates arrive with push).", default = "auto", values = ["auto", "force", "disabled"]),
    }, **dict(SETTINGS_ATTRS, **PLATFORM_ATTRS)),
    cfg = platform_transition,
    toolchains = [TOOLCHAIN_TYPE],
)
