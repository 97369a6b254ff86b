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
load("//img/private/providers:layer_config_info.bzl", "ImageLayerConfigInfo")
load(":settings.bzl", "SETTINGS_ATTRS", "setting")
load(":stamp.bzl", "STAMP_ATTRS", "build_setting_values", "has_template", "stamp_files", "stamping")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def subject_descriptor(target):
    """The descriptor file of a `subject` (an image_manifest or image_index)."""
    if ImageManifestInfo in target:
        return target[ImageManifestInfo].descriptor
    return target[ImageIndexInfo].descriptor

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

def _layer_config(ctx):
    """ImageLayerConfigInfo of the layers (layer_from_binary), merged: later layers win, env merged."""
    merged = struct(entrypoint = [], cmd = [], env = {}, working_dir = "")
    for target in ctx.attr.layers:
        if ImageLayerConfigInfo not in target:
            continue
        c = target[ImageLayerConfigInfo]
        merged = struct(
            entrypoint = c.entrypoint or merged.entrypoint,
            cmd = c.cmd or merged.cmd,
            env = dict(merged.env, **c.env),
            working_dir = c.working_dir or merged.working_dir,
        )
    return merged

def _string_flag(args, value, attribute, flag):
    """user/working_dir/stop_signal: the sentinel inherits, "" unsets, anything else sets."""
    if value == INHERIT_FROM_BASE:
        return
    if "\n" in value:
        fail("%s: %r contains a newline" % (attribute, value))
    args.add("--%s=%s" % (flag, value))

def _created_timestamp(ctx):
    """created_timestamp, or the build time when stamp_created (or its setting) says so."""
    if ctx.attr.created_timestamp:
        if ctx.file.created:
            fail("created and created_timestamp exclude each other")
        return ctx.attr.created_timestamp
    mode = ctx.attr.stamp_created
    if mode == "auto":
        mode = setting(ctx, "stamp_created")
    if mode == "enabled" and not ctx.file.created:
        return "{{.BUILD_TIMESTAMP_RFC3339}}"
    return ""

def template_args(ctx, args, inputs, values, files):
    """Pass --template (and build settings, stamp files when stamping) to img manifest / img index."""
    args.add("--template")
    settings = build_setting_values(ctx)
    if settings:
        settings_file = ctx.actions.declare_file(ctx.label.name + "_build_settings.json")
        ctx.actions.write(settings_file, json.encode(settings))
        args.add("--build-settings=" + settings_file.path)
        inputs.append(settings_file)
    if stamping(ctx, has_template(values) or len(files) > 0):
        for f in stamp_files(ctx):
            args.add("--stamp=" + f.path)
            inputs.append(f)

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

    layer_config = _layer_config(ctx)
    fragment = {}
    for attribute in ("entrypoint", "cmd"):
        values = getattr(ctx.attr, attribute)
        if values == [INHERIT_FROM_BASE] and getattr(layer_config, attribute):
            values = getattr(layer_config, attribute)
        unset = _list_flag(args, values, attribute)
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
    for k, v in dict(layer_config.env, **ctx.attr.env).items():
        if "=" in k or k == "" or "\n" in k or "\n" in v:
            fail("env: invalid variable %r" % k)
        args.add("--env=%s=%s" % (k, v))
    working_dir = ctx.attr.working_dir
    if working_dir == INHERIT_FROM_BASE and layer_config.working_dir:
        working_dir = layer_config.working_dir
    _string_flag(args, ctx.attr.user, "user", "user")
    _string_flag(args, working_dir, "working_dir", "workdir")
    _string_flag(args, ctx.attr.stop_signal, "stop_signal", "stop-signal")
    created = _created_timestamp(ctx)
    if created:
        args.add("--created=" + created)
    if ctx.file.created:
        args.add("--created-file=" + ctx.file.created.path)
        inputs.append(ctx.file.created)
    annotation_args(args, ctx.attr.labels, "labels", "--label")
    annotation_args(args, ctx.attr.annotations)
    files = []
    if ctx.file.env_file:
        args.add("--env-file=" + ctx.file.env_file.path)
        files.append(ctx.file.env_file)
    for f in ctx.files.label_files:
        args.add("--label-file=" + f.path)
        files.append(f)
    if ctx.file.annotations_file:
        args.add("--annotations-file=" + ctx.file.annotations_file.path)
        files.append(ctx.file.annotations_file)
    inputs.extend(files)
    template_args(ctx, args, inputs, [ctx.attr.env, ctx.attr.labels, ctx.attr.annotations, created], [f for f in files if f != ctx.file.env_file])
    if ctx.attr.subject:
        args.add("--subject=" + subject_descriptor(ctx.attr.subject).path)
        inputs.append(subject_descriptor(ctx.attr.subject))
    if ctx.attr.artifact_type:
        args.add("--artifact-type=" + ctx.attr.artifact_type)

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
        "env": attr.string_dict(doc = "Environment; a variable the base has is replaced in place, new ones are appended. Values are templates (`{{ $PATH }}:/opt/bin` extends the base's PATH)."),
        "env_file": attr.label(doc = "Environment from a file: a JSON object (string values, or lists whose last value wins), a JSON list of `K=V`, or `K=V` lines (`#` comments). `env` wins.", allow_single_file = True),
        "user": attr.string(doc = "User (and group) the container runs as; INHERIT_FROM_BASE (default) inherits, \"\" unsets.", default = INHERIT_FROM_BASE),
        "working_dir": attr.string(doc = "Working directory; INHERIT_FROM_BASE (default) inherits (or, after a layer_from_binary, its runfiles root), \"\" unsets.", default = INHERIT_FROM_BASE),
        "labels": attr.string_dict(doc = "Config labels, merged over the base's; values are templates."),
        "label_files": attr.label_list(doc = "Label files (formats as env_file), merged in order; they win over `labels`; values are templates.", allow_files = True),
        "annotations": attr.string_dict(doc = "Manifest annotations; values are templates."),
        "annotations_file": attr.label(doc = "Annotations file (formats as env_file); it wins over `annotations`; values are templates.", allow_single_file = True),
        "stop_signal": attr.string(doc = "Stop signal, e.g. SIGTERM; INHERIT_FROM_BASE (default) inherits, \"\" unsets.", default = INHERIT_FROM_BASE),
        "created": attr.label(doc = "A file holding the config's `created` time (RFC 3339). Excludes created_timestamp; wins over stamp_created.", allow_single_file = True),
        "created_timestamp": attr.string(doc = "The config's `created` time, RFC 3339, as a template (`{{.BUILD_TIMESTAMP_RFC3339}}` is Bazel's build time when stamping). Empty (or expanding to empty) omits it, keeping builds reproducible."),
        "stamp_created": attr.string(doc = "`enabled`: created_timestamp = `{{.BUILD_TIMESTAMP_RFC3339}}` (needs stamping); `auto` uses //img/settings:stamp_created (default disabled). Ignored when created or created_timestamp is set.", default = "auto", values = ["auto", "enabled", "disabled"]),
        "subject": attr.label(doc = "An image_manifest or image_index this image refers to (OCI referrers: SBOMs, signatures); becomes the manifest's `subject`.", providers = [[ImageManifestInfo], [ImageIndexInfo]]),
        "artifact_type": attr.string(doc = "The manifest's `artifactType` (e.g. application/spdx+json)."),
    }, **dict(SETTINGS_ATTRS, **dict(PLATFORM_ATTRS, **STAMP_ATTRS))),
    cfg = platform_transition,
    toolchains = [TOOLCHAIN_TYPE],
)
