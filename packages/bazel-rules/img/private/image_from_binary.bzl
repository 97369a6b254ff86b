"""image_from_binary: a *_binary as an image (layer_from_binary + image_manifest, or an image_index)."""

load(":index.bzl", "image_index")
load(":layer_from_binary.bzl", "layer_from_binary")
load(":manifest.bzl", "image_manifest")

_LAYER_ARGS = ["path", "include_runfiles", "compress", "estargz"]

def image_from_binary(name, binary, layers = [], platforms = [], kind = "auto", visibility = None, tags = None, testonly = None, **kwargs):
    """Package a `*_binary` (any language) with its runfiles as a container image.

    Creates `<name>.layer` (a `layer_from_binary`, appended after `layers`) and `<name>`: an
    `image_manifest`, or with more than one platform (or `kind = "index"`) an `image_index` over
    `<name>.manifest`. The entrypoint is the binary's path in the image, cmd its `args`, env its
    `env`, the working directory its runfiles root, unless given. Every other `image_manifest`
    attribute (base, env, labels, annotations, user...) is forwarded.

    ```starlark
    load("@img_rules//img:image.bzl", "image_from_binary")

    image_from_binary(
        name = "app_image",
        binary = ":server",
        base = "@distroless_base",
    )
    ```

    Args:
      name: name of the image (or index) target.
      binary: the `*_binary` target to package.
      layers: more layers, below the binary's.
      platforms: target platforms; more than one builds an `image_index`.
      kind: `auto` (index with more than one platform), `manifest` or `index`.
      visibility: visibility of the targets.
      tags: tags of the targets.
      testonly: testonly of the targets.
      **kwargs: `path`, `include_runfiles`, `compress`, `estargz` go to the layer; everything else to `image_manifest`.
    """
    if kind not in ["auto", "manifest", "index"]:
        fail("image_from_binary(name = %r): kind must be auto, manifest or index, not %r" % (name, kind))
    if kind == "manifest" and len(platforms) > 1:
        fail("image_from_binary(name = %r): kind = \"manifest\" with %d platforms" % (name, len(platforms)))
    common = {k: v for k, v in {"visibility": visibility, "tags": tags, "testonly": testonly}.items() if v != None}
    layer_kwargs = {k: kwargs.pop(k) for k in _LAYER_ARGS if k in kwargs}
    layer_from_binary(name = name + ".layer", binary = binary, **dict(layer_kwargs, **common))
    all_layers = list(layers) + [":" + name + ".layer"]
    as_index = kind == "index" or (kind == "auto" and len(platforms) > 1)
    if not as_index:
        if platforms:
            kwargs["platform"] = platforms[0]
        image_manifest(name = name, layers = all_layers, **dict(kwargs, **common))
        return
    index_kwargs = {k: kwargs.pop(k) for k in ["annotations", "annotations_file", "build_settings", "stamp"] if k in kwargs}
    image_manifest(name = name + ".manifest", layers = all_layers, **dict(kwargs, **common))
    image_index(name = name, manifests = [":" + name + ".manifest"], platforms = platforms, **dict(index_kwargs, **common))
