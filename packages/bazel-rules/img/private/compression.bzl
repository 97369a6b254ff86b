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

def check_estargz(ctx, value):
    """Fails when eStargz is asked for (by the attribute or //img/settings:estargz): not written yet."""
    resolved = setting(ctx, "estargz") if value == "auto" else value
    if resolved == "enabled":
        where = "estargz" if value == "enabled" else "estargz (from --@img_rules//img/settings:estargz=enabled)"
        fail("%s: eStargz layers are not supported by img_rules yet; use estargz = \"disabled\"" % where)

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
