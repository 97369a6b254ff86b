"""Compression and eStargz choices shared by the layer rules."""

load(":settings.bzl", "setting")

COMPRESS_VALUES = ["auto", "gzip", "zstd", "none"]
ESTARGZ_VALUES = ["auto", "enabled", "disabled"]

BLOB_EXTENSIONS = {"gzip": ".tgz", "zstd": ".tar.zst", "none": ".tar"}

MEDIA_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}

def resolve_compress(ctx, value):
    """The compression of a rule's `compress` attribute, "auto" meaning //img/settings:compress."""
    return setting(ctx, "compress") if value == "auto" else value

def resolve_estargz(ctx, value, compress = "auto"):
    """True when the rule's `estargz` attribute (or, for "auto", //img/settings:estargz) asks for eStargz.

    The global setting applies to layers that are compressed: a layer whose compression is "none" stays
    a plain tar under `estargz=enabled` (an explicit `estargz = "enabled"` on it still fails)."""
    if value == "auto":
        return setting(ctx, "estargz") == "enabled" and compress != "none"
    return value == "enabled"

def compression_level_args(ctx, fmt):
    """`--compression-level=N` from //img/settings:compression_level for `fmt`, or [] for the default."""
    level = setting(ctx, "compression_level")
    if fmt == "none" or level in ("auto", "-1"):
        return []
    if level == "fastest":
        n = 1
    elif level == "best":
        n = 9 if fmt == "gzip" else 19
    else:
        n = int(level)
    if fmt == "gzip" and n > 9:
        fail("compression_level %s is out of range for gzip (0-9)" % level)
    if fmt == "zstd" and n < 1:
        n = 1
    return ["--compression-level=%d" % n]

def compression_jobs_args(ctx):
    """`--compressor-jobs=N` from //img/settings:compression_jobs, or [] for `auto`."""
    jobs = setting(ctx, "compression_jobs")
    return [] if jobs == "auto" else ["--compressor-jobs=" + jobs]
