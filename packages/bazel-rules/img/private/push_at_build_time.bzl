"""Push at build time: image_push's blobs (and manifests and tags) pushed by validation actions."""

load("//img/private/providers:index_info.bzl", "ImageIndexInfo")
load("//img/private/providers:manifest_info.bzl", "ImageManifestInfo")
load(":settings.bzl", "setting")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

PUSH_AT_BUILD_TIME_ATTRS = {
    "push_at_build_time": attr.string(
        doc = "Push while building, as validation actions (`bazel build` of this target pushes): `enabled` (a failure fails the build), `best_effort` (a failure is a warning), `disabled`; `auto` uses //img/settings:push_at_build_time.",
        default = "auto",
        values = ["auto", "enabled", "best_effort", "disabled"],
    ),
    "push_at_build_time_content": attr.string(
        doc = "`blobs` (every layer and the config) or `blobs_and_manifests` (also the manifests and tags); `auto` uses //img/settings:push_at_build_time_content.",
        default = "auto",
        values = ["auto", "blobs", "blobs_and_manifests"],
    ),
    "push_at_build_time_exec_properties": attr.string_dict(
        doc = "execution_requirements of the push actions (PushImage).",
        default = {"requires-network": "1"},
    ),
}

def _run(ctx, args, inputs, output, what):
    tool = ctx.toolchains[TOOLCHAIN_TYPE].img
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    ctx.actions.run(
        executable = tool.node_executable or tool.node_path,
        arguments = [tool.img.path, args],
        tools = depset([tool.img], transitive = [tool.node_files]),
        inputs = inputs,
        outputs = [output],
        mnemonic = "PushImage",
        progress_message = what,
        execution_requirements = ctx.attr.push_at_build_time_exec_properties,
        toolchain = TOOLCHAIN_TYPE,
    )

def _common_flags(ctx, args, mode):
    # Loopback registries get plain HTTP from img itself (the registry may be a template here).
    args.add("--no-blob-cache")
    if mode == "best_effort":
        args.add("--best-effort")
    helper = setting(ctx, "credential_helper")
    if helper:
        args.add("--credential-helper=" + helper)

def push_at_build_time_actions(ctx, request_file):
    """Declare the PushImage actions when push at build time is on; returns their outputs."""
    mode = ctx.attr.push_at_build_time
    if mode == "auto":
        mode = setting(ctx, "push_at_build_time")
    if mode == "disabled":
        return []
    content = ctx.attr.push_at_build_time_content
    if content == "auto":
        content = setting(ctx, "push_at_build_time_content")
    image = ctx.attr.image
    manifests = image[ImageIndexInfo].manifests if ImageIndexInfo in image else [image[ImageManifestInfo]]
    prefix = ctx.label.name + "_push_at_build_time/"
    results = []
    seen = {}
    blobs = []
    for m in manifests:
        blobs.append(("config", m.config, None))
        for layer in m.layers:
            blobs.append(("layer", layer.metadata, layer))
    for kind, file, layer in blobs:
        if file.path in seen:
            continue
        seen[file.path] = True
        out = ctx.actions.declare_file("%s%d_%s.json" % (prefix, len(results), kind))
        args = ctx.actions.args()
        args.add("push-blob")
        args.add("--request=" + request_file.path)
        inputs = [request_file]
        if layer == None:
            args.add("--blob=" + file.path)
            inputs.append(file)
        else:
            args.add("--metadata=" + file.path)
            inputs.append(file)
            if layer.blob:
                args.add("--blob=" + layer.blob.path)
                inputs.append(layer.blob)
            for s in layer.sources:
                args.add("--source=%s/%s" % (s.registry, s.repository))
        args.add("--output=" + out.path)
        _common_flags(ctx, args, mode)
        _run(ctx, args, inputs, out, "Pushing %s of %s at build time" % (kind, ctx.label))
        results.append(out)
    if content == "blobs_and_manifests":
        out = ctx.actions.declare_file(prefix + "manifests.json")
        args = ctx.actions.args()
        args.add("push-manifest")
        args.add("--request=" + request_file.path)
        inputs = [request_file] + results
        for m in manifests:
            args.add("--manifest=" + m.manifest.path)
            inputs.append(m.manifest)
        if ImageIndexInfo in image:
            args.add("--index=" + image[ImageIndexInfo].index.path)
            inputs.append(image[ImageIndexInfo].index)
        args.add("--output=" + out.path)
        _common_flags(ctx, args, mode)
        _run(ctx, args, inputs, out, "Pushing manifests and tags of %s at build time" % ctx.label)
        results.append(out)
    return results
