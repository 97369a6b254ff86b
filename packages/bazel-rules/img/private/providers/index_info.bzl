"""ImageIndexInfo: a multi-platform image."""

ImageIndexInfo = provider(
    doc = "A multi-platform image index built by image_index (or imported).",
    fields = {
        "index": "File: the OCI image index JSON",
        "descriptor": "File: the index's descriptor JSON (mediaType, digest, size)",
        "digest": "File: the index digest, `sha256:<hex>` without a newline",
        "manifests": "list of ImageManifestInfo: the child images, in index order",
    },
)
