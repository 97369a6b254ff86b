"""image_layer: files, executables (with their runfiles), directories and symlinks -> one layer.

One action (`img layer`) writes the blob and its metadata JSON in a single pass.
"""

load(":compression.bzl", "BLOB_EXTENSIONS", "COMPRESS_VALUES", "ESTARGZ_VALUES", "MEDIA_TYPES", "compression_jobs_args", "compression_level_args", "resolve_compress", "resolve_estargz")
load(":file_metadata.bzl", "normalize_metadata_json")
load(":paths.bzl", "normalize_image_path")
load("//img/private/providers:layer_info.bzl", "LayerInfo")
load(":run_img.bzl", "run_img")
load(":settings.bzl", "SETTINGS_ATTRS", "setting")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def _escape_format(s):
    return s.replace("%", "%%")

def _check_value(value, attribute, what):
    if "\n" in value or "\0" in value:
        fail("%s: %s %r contains a newline or NUL byte" % (attribute, what, value))

# Runfiles entries, mapped lazily at execution time (the depsets are never flattened during analysis).
# Main-repository files live under <workspace name>/ in a runfiles tree, external ones under <repo>/.
def _main_file(f):
    if f.is_directory or f.short_path.startswith("../"):
        return None
    return f.short_path + "=" + f.path

def _main_dir(f):
    if not f.is_directory or f.short_path.startswith("../"):
        return None
    return f.short_path + "=" + f.path

def _external_file(f):
    if f.is_directory or not f.short_path.startswith("../"):
        return None
    return f.short_path[3:] + "=" + f.path

def _external_dir(f):
    if not f.is_directory or not f.short_path.startswith("../"):
        return None
    return f.short_path[3:] + "=" + f.path

def _symlink_file(entry):
    return None if entry.target_file.is_directory else entry.path + "=" + entry.target_file.path

def _symlink_dir(entry):
    return entry.path + "=" + entry.target_file.path if entry.target_file.is_directory else None

def _main_empty(path):
    return None if path.startswith("../") else path

def _external_empty(path):
    return path[3:] if path.startswith("../") else None

def _add_runfiles(ctx, args, prefix, runfiles, repo_mapping):
    """Add `runfiles` under `prefix` (e.g. "app/server.runfiles/")."""
    main = _escape_format(prefix + ctx.workspace_name + "/")
    root = _escape_format(prefix)
    args.add_all(runfiles.files, map_each = _main_file, format_each = "--add=" + main + "%s", expand_directories = False)
    args.add_all(runfiles.files, map_each = _main_dir, format_each = "--add-dir=" + main + "%s", expand_directories = False)
    args.add_all(runfiles.files, map_each = _external_file, format_each = "--add=" + root + "%s", expand_directories = False)
    args.add_all(runfiles.files, map_each = _external_dir, format_each = "--add-dir=" + root + "%s", expand_directories = False)

    # SymlinkEntry: `symlinks` are relative to the workspace directory, `root_symlinks` to the root.
    args.add_all(runfiles.symlinks, map_each = _symlink_file, format_each = "--add=" + main + "%s")
    args.add_all(runfiles.symlinks, map_each = _symlink_dir, format_each = "--add-dir=" + main + "%s")
    args.add_all(runfiles.root_symlinks, map_each = _symlink_file, format_each = "--add=" + root + "%s")
    args.add_all(runfiles.root_symlinks, map_each = _symlink_dir, format_each = "--add-dir=" + root + "%s")
    args.add_all(runfiles.empty_filenames, map_each = _main_empty, format_each = "--empty-file=" + main + "%s")
    args.add_all(runfiles.empty_filenames, map_each = _external_empty, format_each = "--empty-file=" + root + "%s")
    if repo_mapping:
        args.add("--add=" + prefix + "_repo_mapping=" + repo_mapping.path)

def _package_relative(f, package):
    sp = f.short_path
    if sp.startswith("../"):
        parts = sp.split("/", 2)
        sp = parts[2] if len(parts) > 2 else f.basename
    if package == "":
        return sp
    if sp.startswith(package + "/"):
        return sp[len(package) + 1:]
    return f.basename

def _entry(args, path, f):
    if f.is_directory:
        args.add("--add-dir=" + path + "=" + f.path)
    else:
        args.add("--add=" + path + "=" + f.path)

def add_executable(ctx, args, transitive, path, target, exe, include_runfiles):
    """Place an executable at `path` with its runfiles at `<path>.runfiles/` and `<path>.repo_mapping`."""
    info = target[DefaultInfo]
    exe_path = path + exe.basename if path.endswith("/") else path
    _entry(args, exe_path, exe)
    transitive.append(depset([exe]))
    if include_runfiles:
        runfiles = info.default_runfiles
        repo_mapping = getattr(info.files_to_run, "repo_mapping_manifest", None)
        prefix = exe_path + ".runfiles/"
        _add_runfiles(ctx, args, prefix, runfiles, repo_mapping)
        if repo_mapping:
            args.add("--add=" + exe_path + ".repo_mapping=" + repo_mapping.path)
            transitive.append(depset([repo_mapping]))
        transitive.append(runfiles.files)

        # Symlink targets are not in runfiles.files; there are few, so flattening them is cheap.
        transitive.append(depset([e.target_file for e in runfiles.symlinks.to_list() + runfiles.root_symlinks.to_list()]))
    return exe_path

def _add_src(ctx, args, transitive, key, path, target):
    """Place one `srcs` entry; returns the image paths it claims (for duplicate detection)."""
    info = target[DefaultInfo]
    exe = info.files_to_run.executable if info.files_to_run else None
    if exe:
        return [add_executable(ctx, args, transitive, path, target, exe, ctx.attr.include_runfiles)]
    files = info.files.to_list()
    transitive.append(info.files)
    if len(files) == 0:
        fail("srcs: %r -> %s has no files" % (key, target.label))
    if len(files) == 1 and not path.endswith("/"):
        _entry(args, path, files[0])
        return [path]
    base = path if path.endswith("/") else path + "/"
    claimed = []
    for f in files:
        rel = f.basename if ctx.attr.multi_file_layout == "flatten" else _package_relative(f, target.label.package)
        p = base + rel
        _entry(args, p, f)
        claimed.append(p)
    return claimed

def created_by(label):
    """`created_by` of the history entry of a layer built by `label`."""
    if label.workspace_name:
        return "bazel build @%s//%s:%s" % (label.workspace_name, label.package, label.name)
    return "bazel build //%s:%s" % (label.package, label.name)

def annotation_args(args, annotations, attribute = "annotations", flag = "--annotation"):
    """Add `flag=K=V` for each entry of a string dict, failing on keys/values the CLI cannot take."""
    for k, v in annotations.items():
        _check_value(k, attribute, "key")
        _check_value(v, attribute, "value")
        if "=" in k or k == "":
            fail("%s: key %r must be non-empty and contain no '='" % (attribute, k))
        args.add(flag + "=" + k + "=" + v)

def start_layer(ctx):
    """Resolve compression, declare blob and metadata: (fmt, estargz, blob, metadata, args)."""
    fmt = resolve_compress(ctx, ctx.attr.compress)
    estargz = resolve_estargz(ctx, ctx.attr.estargz, fmt)
    if estargz and fmt == "none":
        fail("estargz: an eStargz layer is compressed; set compress to gzip or zstd (zstd gives zstd:chunked)")
    blob = ctx.actions.declare_file(ctx.label.name + BLOB_EXTENSIONS[fmt])
    metadata = ctx.actions.declare_file(ctx.label.name + "_metadata.json")
    args = ctx.actions.args()
    args.add("layer")
    return fmt, estargz, blob, metadata, args

def _image_layer_impl(ctx):
    fmt, estargz, blob, metadata, args = start_layer(ctx)
    transitive = []
    claimed = {}
    for key, target in ctx.attr.srcs.items():
        path = normalize_image_path(key, "srcs")
        if path == "" or path == "/":
            fail("srcs: key %r is the image root; give a path inside the image" % key)
        if "=" in path:
            fail("srcs: key %r contains '=', which img_rules does not support in paths" % key)
        for p in _add_src(ctx, args, transitive, key, path, target):
            norm = p.rstrip("/")
            if norm in claimed:
                fail("srcs: keys %r and %r both write %r" % (claimed[norm], key, "/" + norm))
            claimed[norm] = key
    for key, link_target in ctx.attr.symlinks.items():
        path = normalize_image_path(key, "symlinks").rstrip("/")
        if path == "" or "=" in path:
            fail("symlinks: key %r must be a path inside the image without '='" % key)
        _check_value(link_target, "symlinks", "target")
        if path in claimed:
            fail("symlinks: %r is also written by srcs key %r" % (key, claimed[path]))
        args.add("--symlink=" + path + "=" + link_target)
    if ctx.attr.default_metadata:
        args.add("--default-metadata=" + normalize_metadata_json(ctx.attr.default_metadata, "default_metadata"))
    for key, value in ctx.attr.file_metadata.items():
        path = normalize_image_path(key, "file_metadata").rstrip("/")
        args.add("--file-metadata=" + path + "=" + normalize_metadata_json(value, "file_metadata[%r]" % key))
    return finish_layer(ctx, args, transitive, fmt, estargz, blob, metadata)

def finish_layer(ctx, args, transitive, fmt, estargz, blob, metadata):
    """Add the flags every layer rule shares, run `img layer`; returns the rule's providers."""
    create_parents = ctx.attr.create_parent_directories
    if create_parents == "auto":
        create_parents = setting(ctx, "create_parent_directories")
    create_parents = create_parents == "enabled"
    if create_parents:
        args.add("--create-parent-directories")
    annotation_args(args, ctx.attr.annotations)
    if ctx.attr.media_type:
        args.add("--media-type=" + ctx.attr.media_type)
    args.add("--created-by=" + created_by(ctx.label))
    args.add("--format=" + fmt)
    args.add_all(compression_level_args(ctx, fmt))
    args.add_all(compression_jobs_args(ctx))
    if estargz:
        args.add("--estargz")
    args.add("--metadata=" + metadata.path)
    args.add(blob.path)

    run_img(
        ctx,
        mnemonic = "ImgLayer",
        args = args,
        inputs = depset(transitive = transitive),
        outputs = [blob, metadata],
        progress_message = "Writing layer %{label}",
    )
    return [
        DefaultInfo(files = depset([blob])),
        LayerInfo(
            blob = blob,
            metadata = metadata,
            media_type = ctx.attr.media_type or MEDIA_TYPES[fmt],
            estargz = estargz,
            sources = [],
        ),
        OutputGroupInfo(layer = depset([blob]), metadata = depset([metadata])),
    ]

image_layer = rule(
    implementation = _image_layer_impl,
    doc = """A container image layer from files, executables (with their runfiles), directories and symlinks.

Keys of `srcs` are paths in the image ("/app/bin/server"); an executable target is placed at its key
with its runfiles tree at `<key>.runfiles/` (and `<key>.repo_mapping`); a target with several files
makes the key a directory. Entries get mode 0755 (files) and mtime 0 unless `default_metadata` /
`file_metadata` say otherwise. Outputs: `<name>.tgz` (or `.tar.zst`, `.tar`) and
`<name>_metadata.json`; output groups `layer` and `metadata`.""",
    attrs = dict({
        "srcs": attr.string_keyed_label_dict(
            doc = "Path in the image -> target. Keys are normalised; a key escaping the root with .. fails.",
            allow_files = True,
        ),
        "symlinks": attr.string_dict(doc = "Symlink path in the image -> link target (kept verbatim)."),
        "compress": attr.string(
            doc = "gzip, zstd or none; auto uses //img/settings:compress.",
            default = "auto",
            values = COMPRESS_VALUES,
        ),
        "estargz": attr.string(
            doc = "Write the layer as eStargz (lazy pulling; with zstd: zstd:chunked); auto uses //img/settings:estargz.",
            default = "auto",
            values = ESTARGZ_VALUES,
        ),
        "default_metadata": attr.string(doc = "JSON from file_metadata(): defaults for every file."),
        "file_metadata": attr.string_dict(doc = "Path in the image -> JSON from file_metadata(). A key matching no entry fails."),
        "annotations": attr.string_dict(doc = "Annotations of the layer descriptor."),
        "media_type": attr.string(doc = "Override the layer media type."),
        "include_runfiles": attr.bool(default = True, doc = "Put executables' runfiles trees into the layer."),
        "multi_file_layout": attr.string(
            default = "package_relative",
            values = ["package_relative", "flatten"],
            doc = "Where the files of a multi-file target go under its key: package-relative paths or basenames.",
        ),
        "create_parent_directories": attr.string(
            default = "auto",
            values = ["auto", "enabled", "disabled"],
            doc = "Write 0755 entries for missing parent directories; auto uses //img/settings:create_parent_directories (disabled: lower layers keep theirs).",
        ),
    }, **SETTINGS_ATTRS),
    toolchains = [TOOLCHAIN_TYPE],
)
