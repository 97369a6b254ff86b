"""layer_from_binary: a *_binary with its runfiles as one layer, plus the image config it implies."""

load(":compression.bzl", "COMPRESS_VALUES", "ESTARGZ_VALUES")
load(":layer.bzl", "add_executable", "finish_layer", "start_layer")
load(":paths.bzl", "normalize_image_path")
load("//img/private/providers:layer_config_info.bzl", "ImageLayerConfigInfo")
load(":settings.bzl", "SETTINGS_ATTRS")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

_BinaryRunInfo = provider(
    doc = "The args and env of a *_binary target (private to layer_from_binary).",
    fields = {"args": "list of string", "env": "dict string -> string"},
)

def _run_info_aspect_impl(target, ctx):
    targets = getattr(ctx.rule.attr, "data", []) or []
    args = []
    for arg in getattr(ctx.rule.attr, "args", []) or []:
        args.append(ctx.expand_make_variables("args", ctx.expand_location(arg, targets = targets), {}))
    env = {}
    if RunEnvironmentInfo in target:
        env.update(target[RunEnvironmentInfo].environment)
    else:
        for k, v in (getattr(ctx.rule.attr, "env", {}) or {}).items():
            env[k] = ctx.expand_make_variables("env", ctx.expand_location(v, targets = targets), {})
    return [_BinaryRunInfo(args = args, env = env)]

_run_info_aspect = aspect(
    implementation = _run_info_aspect_impl,
    doc = "Reads a binary's args and env (with $(location) expanded).",
)

def binary_path(ctx, exe):
    """The binary's path in the image: `path` (a trailing / appends the basename), else its
    rlocationpath (`_main/pkg/name`)."""
    path = ctx.attr.path
    if not path:
        path = exe.short_path[3:] if exe.short_path.startswith("../") else ctx.workspace_name + "/" + exe.short_path
    elif path.endswith("/"):
        path = path + exe.basename
    return normalize_image_path(path, "path", "value")

def _layer_from_binary_impl(ctx):
    exe = ctx.executable.binary
    fmt, estargz, blob, metadata, args = start_layer(ctx)
    transitive = [ctx.attr.binary[DefaultInfo].files]
    path = binary_path(ctx, exe)
    if path == "" or "=" in path:
        fail("path: %r must name a file inside the image, without '='" % ctx.attr.path)
    add_executable(ctx, args, transitive, path, ctx.attr.binary, exe, ctx.attr.include_runfiles)
    run_info = ctx.attr.binary[_BinaryRunInfo]
    config = ImageLayerConfigInfo(
        entrypoint = ["/" + path],
        cmd = run_info.args,
        env = run_info.env,
        working_dir = "/%s.runfiles/%s" % (path, ctx.workspace_name) if ctx.attr.include_runfiles else "",
    )
    return finish_layer(ctx, args, transitive, fmt, estargz, blob, metadata) + [config]

LAYER_FROM_BINARY_ATTRS = {
    "binary": attr.label(
        doc = "The *_binary to package. Its `args` become the image's cmd, its `env` (or RunEnvironmentInfo) the env, `$(location)` expanded over its `data`.",
        mandatory = True,
        executable = True,
        cfg = "target",
        aspects = [_run_info_aspect],
    ),
    "path": attr.string(doc = "The binary's path in the image; a trailing `/` appends its basename. Default: its rlocationpath, e.g. `/_main/cmd/server/server`."),
    "include_runfiles": attr.bool(default = True, doc = "Put the runfiles tree at `<path>.runfiles/` (then the working directory is `<path>.runfiles/_main`)."),
}

layer_from_binary = rule(
    implementation = _layer_from_binary_impl,
    doc = """A layer holding a `*_binary` (any language) with its runfiles, plus the image config it implies.

The binary goes to `path` (default: its rlocationpath), its runfiles to `<path>.runfiles/`. In an
`image_manifest`, the layer sets entrypoint `[/<path>]`, cmd from the binary's `args`, env from its
`env`, and the working directory `/<path>.runfiles/_main` wherever the manifest's own attribute is
left at its default.

```starlark
load("@img_rules//img:layer.bzl", "layer_from_binary")

layer_from_binary(
    name = "server_layer",
    binary = "//cmd/server",
    path = "/app/",
)
```""",
    attrs = dict(LAYER_FROM_BINARY_ATTRS, **dict({
        "compress": attr.string(doc = "gzip, zstd or none; auto uses //img/settings:compress.", default = "auto", values = COMPRESS_VALUES),
        "estargz": attr.string(doc = "eStargz layer; auto uses //img/settings:estargz.", default = "auto", values = ESTARGZ_VALUES),
        "annotations": attr.string_dict(doc = "Annotations of the layer descriptor."),
        "media_type": attr.string(doc = "Override the layer media type."),
        "create_parent_directories": attr.string(default = "auto", values = ["auto", "enabled", "disabled"], doc = "Write 0755 entries for missing parent directories; auto uses //img/settings:create_parent_directories."),
    }, **SETTINGS_ATTRS)),
    toolchains = [TOOLCHAIN_TYPE],
)
