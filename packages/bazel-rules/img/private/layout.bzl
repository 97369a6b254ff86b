"""The `oci_layout` (directory) and `oci_tarball` output groups of image_manifest and image_index, and
image_load's `tarball` (docker-save)."""

load(":run_img.bzl", "run_img")

def _layout_action(ctx, out, target, index, manifests, worker = True, blobs = True):
    args = ctx.actions.args()
    args.add("layout")
    if not blobs:
        args.add("--allow-missing-blobs")
    inputs = []
    if index:
        args.add("--index=" + index.path)
        inputs.append(index)
    seen = {}
    for m in manifests:
        if m.manifest.path in seen:
            continue
        seen[m.manifest.path] = True
        args.add("--manifest=" + m.manifest.path)
        args.add("--config=" + m.config.path)
        inputs.extend([m.manifest, m.config])
        for layer in m.layers:
            if layer.metadata.path in seen:
                continue
            seen[layer.metadata.path] = True
            if not blobs:
                # Metadata only: the layer's blob stays wherever Bazel left it (the remote cache).
                args.add("--layer=" + layer.metadata.path)
                inputs.append(layer.metadata)
                continue
            if layer.blob == None:
                if not layer.sources:
                    fail("%s: layer %s has neither a blob nor sources to fetch it from" % (ctx.label, layer.metadata.short_path))

                # A pulled base layer stays in its registry: the layout lists it in img-sources.json.
                args.add("--layer=" + layer.metadata.path)
                inputs.append(layer.metadata)
                continue
            args.add("--layer=" + layer.metadata.path + "=" + layer.blob.path)
            inputs.extend([layer.metadata, layer.blob])
    args.add("--output=" + target)
    run_img(
        ctx,
        mnemonic = "ImgLayout",
        args = args,
        inputs = inputs,
        outputs = [out],
        progress_message = "Writing OCI layout %{output}",
        worker = worker,
    )

def layout_output_groups(ctx, index, manifests):
    """Declare the layout directory and tarball (built only when their output group is requested)."""
    directory = ctx.actions.declare_directory(ctx.label.name + "_oci_layout")
    tarball = ctx.actions.declare_file(ctx.label.name + "_oci_layout.tar")
    _layout_action(ctx, directory, "oci:" + directory.path, index, manifests)
    _layout_action(ctx, tarball, "oci-archive:" + tarball.path, index, manifests)
    return {"oci_layout": depset([directory]), "oci_tarball": depset([tarball])}

def metadata_layout(ctx, index, manifests):
    """An OCI layout directory of the image's documents only (no layer blob is an input or in it):
    what lazy push and load take, so `--remote_download_minimal` never downloads a layer. Base layers
    keep their sources (img-sources.json)."""
    directory = ctx.actions.declare_directory(ctx.label.name + "_metadata_layout")
    _layout_action(ctx, directory, "oci:" + directory.path, index, manifests, blobs = False)
    return directory

def docker_tarball(ctx, out, repo_tag, index, manifests):
    """A docker-save tar of the image (for an index: the exec platform's image) named repo_tag.

    Base layers of a pulled (shallow) base are streamed from their registry by the action.
    """
    target = "docker-archive:" + out.path + (":" + repo_tag if repo_tag else "")

    # Not a worker: the action may read base layers from a registry, which a shared worker should not.
    _layout_action(ctx, out, target, index, manifests, worker = False)
