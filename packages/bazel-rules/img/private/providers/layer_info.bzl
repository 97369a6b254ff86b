"""LayerInfo: one built (or imported) layer."""

LayerInfo = provider(
    doc = """One image layer: its blob and the small metadata JSON describing it.

Manifest and index actions read only `metadata`, never `blob`, so they can run where blobs are
absent (remote execution, --remote_download_minimal).""",
    fields = {
        "blob": "File: the layer blob (.tgz, .tar.zst or .tar), or None for a shallow layer",
        "metadata": "File: layer metadata JSON (mediaType, digest, size, diff_id, uncompressed_size, annotations, history)",
        "media_type": "string: the blob's media type, e.g. application/vnd.oci.image.layer.v1.tar+gzip",
        "estargz": "bool: True when the blob is eStargz",
        "sources": "list of struct(registry, repository): where a shallow (pulled) layer can be fetched; [] for built layers",
    },
)

# rules_img's older name for the same provider.
SingleLayerInfo = LayerInfo
