"""image_index: a multi-platform image index from image_manifest targets."""

load(":layer.bzl", "annotation_args")
load(":layout.bzl", "layout_output_groups")
load(":manifest.bzl", "subject_descriptor", "template_args")
load(":platforms.bzl", "platforms_split_transition")
load("//img/private/providers:index_info.bzl", "ImageIndexInfo")
load("//img/private/providers:manifest_info.bzl", "ImageManifestInfo")
load(":run_img.bzl", "run_img")
load(":settings.bzl", "SETTINGS_ATTRS")
load(":stamp.bzl", "STAMP_ATTRS")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def _children(ctx):
    if not ctx.attr.platforms:
        return [t[ImageManifestInfo] for t in ctx.attr.manifests]
    if len(ctx.attr.manifests) != len(ctx.attr.platforms):
        fail("manifests: with platforms, give exactly one manifest (it is built once per platform); got %d" % (len(ctx.attr.manifests) // max(1, len(ctx.attr.platforms))))
    seen = {}
    children = []
    for p in ctx.attr.platforms:
        key = str(p.label)
        if key in seen:
            fail("platforms: %s is listed twice" % key)
        seen[key] = True
        children.append(ctx.split_attr.manifests[key][0][ImageManifestInfo])
    return children

def _image_index_impl(ctx):
    children = _children(ctx)
    if not children:
        fail("manifests: give at least one image_manifest")
    args = ctx.actions.args()
    args.add("index")
    for m in children:
        args.add("--manifest-descriptor=" + m.descriptor.path)
    annotation_args(args, ctx.attr.annotations)
    inputs = [m.descriptor for m in children]
    files = []
    if ctx.file.annotations_file:
        args.add("--annotations-file=" + ctx.file.annotations_file.path)
        files.append(ctx.file.annotations_file)
        inputs.append(ctx.file.annotations_file)
    template_args(ctx, args, inputs, [ctx.attr.annotations], files)
    if ctx.attr.subject:
        args.add("--subject=" + subject_descriptor(ctx.attr.subject).path)
        inputs.append(subject_descriptor(ctx.attr.subject))
    index = ctx.actions.declare_file(ctx.label.name + "_index.json")
    descriptor = ctx.actions.declare_file(ctx.label.name + "_descriptor.json")
    digest = ctx.actions.declare_file(ctx.label.name + "_digest")
    args.add("--output=" + index.path)
    args.add("--descriptor=" + descriptor.path)
    args.add("--digest=" + digest.path)
    run_img(
        ctx,
        mnemonic = "ImgIndex",
        args = args,
        inputs = inputs,
        outputs = [index, descriptor, digest],
        progress_message = "Assembling image index %{label}",
    )
    groups = layout_output_groups(ctx, index, children)
    return [
        DefaultInfo(files = depset([index])),
        ImageIndexInfo(index = index, descriptor = descriptor, digest = digest, manifests = children),
        OutputGroupInfo(digest = depset([digest]), descriptor = depset([descriptor]), root_blob = depset([index]), **groups),
    ]

image_index = rule(
    implementation = _image_index_impl,
    doc = """A multi-platform OCI image index.

Either list one image_manifest per platform in `manifests`, or give one manifest and `platforms`:
the manifest is then built once per platform (a split transition) and the children follow the
order of `platforms`. Outputs `<name>_index.json`; output groups `digest`, `descriptor`,
`root_blob`, `oci_layout` (a directory with every blob), `oci_tarball`.""",
    attrs = dict({
        "manifests": attr.label_list(doc = "image_manifest targets, in index order.", providers = [ImageManifestInfo], cfg = platforms_split_transition),
        "platforms": attr.label_list(doc = "Platforms to build the single manifest for (split transition)."),
        "annotations": attr.string_dict(doc = "Index annotations; values are templates."),
        "annotations_file": attr.label(doc = "Annotations file: a JSON object, a JSON list of `K=V` or `K=V` lines; it wins over `annotations`; values are templates.", allow_single_file = True),
        "subject": attr.label(doc = "An image_manifest or image_index this index refers to (OCI referrers); becomes the index's `subject`.", providers = [[ImageManifestInfo], [ImageIndexInfo]]),
    }, **dict(SETTINGS_ATTRS, **STAMP_ATTRS)),
    toolchains = [TOOLCHAIN_TYPE],
)
