"""layer_from_tar: an existing tar (.tar, .tar.gz/.tgz, .tar.zst/.tzst) as a layer."""

load(":compression.bzl", "BLOB_EXTENSIONS", "COMPRESS_VALUES", "ESTARGZ_VALUES", "MEDIA_TYPES", "compression_jobs_args", "compression_level_args", "resolve_estargz")
load(":layer.bzl", "annotation_args", "created_by")
load("//img/private/providers:layer_info.bzl", "LayerInfo")
load(":run_img.bzl", "run_img")
load(":settings.bzl", "SETTINGS_ATTRS")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

TAR_EXTENSIONS = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst"]

def source_compression(f):
    """Compression of a tar file judged by its name (the action checks the bytes)."""
    if f.basename.endswith(".gz") or f.basename.endswith(".tgz"):
        return "gzip"
    if f.basename.endswith(".zst") or f.basename.endswith(".tzst"):
        return "zstd"
    return "none"

def is_tar(f):
    return any([f.basename.endswith(ext) for ext in TAR_EXTENSIONS])

def tar_layer(ctx, src, compress, name, annotations = {}, media_type = "", optimize = False, estargz = False):
    """Register the action making `src` a layer; returns its LayerInfo.

    Args:
      ctx: rule context (with SETTINGS_ATTRS and the img toolchain).
      src: the tar File.
      compress: "auto" keeps the source compression (the tar is the blob, untouched); otherwise
        gzip, zstd or none recompresses it (diff_id is preserved).
      name: output name prefix.
      annotations: layer descriptor annotations.
      media_type: override the media type.
      optimize: rewrite the tar under the determinism rules (sorted, mtime 0, identical files
        hardlinked); the blob is always a new file.
      estargz: convert to eStargz (zstd:chunked when the compression is zstd); a new blob.
    """
    args = ctx.actions.args()
    args.add("layer-from-tar")
    args.add(src.path)
    metadata = ctx.actions.declare_file(name + "_metadata.json")
    if compress == "auto" and not optimize and not estargz:
        fmt = source_compression(src)
        blob = src
        args.add("--format=keep")
        outputs = [metadata]
    else:
        fmt = source_compression(src) if compress == "auto" else compress
        if estargz and fmt == "none":
            if compress == "none":
                fail("estargz: an eStargz layer is compressed; set compress to gzip or zstd (zstd gives zstd:chunked)")
            fmt = "gzip"
        blob = ctx.actions.declare_file(name + BLOB_EXTENSIONS[fmt])
        args.add("--format=" + fmt)
        if optimize:
            args.add("--rewrite")
        if estargz:
            args.add("--estargz")
        args.add("--output=" + blob.path)
        args.add_all(compression_level_args(ctx, fmt))
        args.add_all(compression_jobs_args(ctx))
        outputs = [blob, metadata]
    annotation_args(args, annotations)
    if media_type:
        args.add("--media-type=" + media_type)
    args.add("--created-by=" + created_by(ctx.label))
    args.add("--metadata=" + metadata.path)
    run_img(
        ctx,
        mnemonic = "ImgLayerFromTar",
        args = args,
        inputs = [src],
        outputs = outputs,
        progress_message = ("Converting layer %s of %%{label} to eStargz" if estargz else "Rewriting layer %s of %%{label}" if optimize else "Hashing layer %s of %%{label}") % src.short_path,
    )
    return LayerInfo(blob = blob, metadata = metadata, media_type = media_type or MEDIA_TYPES[fmt], estargz = estargz, sources = [])

def _layer_from_tar_impl(ctx):
    estargz = resolve_estargz(ctx, ctx.attr.estargz, ctx.attr.compress)
    info = tar_layer(ctx, ctx.file.src, ctx.attr.compress, ctx.label.name, ctx.attr.annotations, ctx.attr.media_type, ctx.attr.optimize, estargz)
    return [
        DefaultInfo(files = depset([info.blob])),
        info,
        OutputGroupInfo(layer = depset([info.blob]), metadata = depset([info.metadata])),
    ]

layer_from_tar = rule(
    implementation = _layer_from_tar_impl,
    doc = """A layer from an existing tar file.

With compress = "auto" the tar is used as the blob untouched and one action only hashes it (digest,
size and diff_id); gzip/zstd/none recompress it (the tar bytes, hence the diff_id, stay the same).""",
    attrs = dict({
        "src": attr.label(doc = "The tar file (.tar, .tar.gz, .tgz, .tar.zst, .tzst).", allow_single_file = TAR_EXTENSIONS, mandatory = True),
        "compress": attr.string(
            doc = "auto keeps the source compression; gzip, zstd or none recompress.",
            default = "auto",
            values = COMPRESS_VALUES,
        ),
        "estargz": attr.string(doc = "Convert the tar to eStargz (`.no.prefetch.landmark` first, entries in the tar's order; with zstd: zstd:chunked); auto uses //img/settings:estargz. A plain tar becomes gzip eStargz.", default = "auto", values = ESTARGZ_VALUES),
        "optimize": attr.bool(doc = "Rewrite the tar by img's determinism rules: entries sorted, mtime 0 (or SOURCE_DATE_EPOCH), user/group names cleared, identical files hardlinked. The blob is a new file (compress auto keeps the source's compression).", default = False),
        "annotations": attr.string_dict(doc = "Annotations of the layer descriptor."),
        "media_type": attr.string(doc = "Override the layer media type."),
    }, **SETTINGS_ATTRS),
    toolchains = [TOOLCHAIN_TYPE],
)
