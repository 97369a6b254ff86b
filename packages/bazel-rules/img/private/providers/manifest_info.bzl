"""ImageManifestInfo: one single-platform image."""

ImageManifestInfo = provider(
    doc = "A single-platform image built by image_manifest (or imported).",
    fields = {
        "manifest": "File: the OCI image manifest JSON",
        "config": "File: the OCI image config JSON",
        "descriptor": "File: the manifest's descriptor JSON (mediaType, digest, size, annotations, platform)",
        "digest": "File: the manifest digest, `sha256:<hex>` without a newline",
        "os": "string: OCI os, e.g. linux",
        "architecture": "string: OCI architecture, e.g. amd64",
        "variant": "string: OCI variant, e.g. v8, or \"\"",
        "layers": "list of LayerInfo: every layer of the image, base layers first, in manifest order",
    },
)
