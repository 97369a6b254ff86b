"""`pull`: a repository rule fetching an image's manifests and configs (never its layers) by digest."""


_AUTH_ENV = ["DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "HOME", "XDG_RUNTIME_DIR", "IMG_CREDENTIAL_HELPER"]
_INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]

def _check_digest(rctx):
    where = "pull(name = %r)" % _apparent_name(rctx)
    digest = rctx.attr.digest
    if not digest:
        fail("%s: digest is required: pin %s/%s with digest = \"sha256:<64 hex>\" (tags move; img_rules pulls by digest only)" % (
            where,
            rctx.attr.registry,
            rctx.attr.repository,
        ))
    hexpart = digest[len("sha256:"):]
    if not digest.startswith("sha256:") or len(hexpart) != 64 or not all([c in "0123456789abcdef" for c in hexpart.elems()]):
        fail("%s: digest %r is not sha256:<64 lowercase hex>" % (where, digest))
    return digest

def _apparent_name(rctx):
    # Bzlmod gives a canonical name (`_main~images~ubuntu` or `+images+ubuntu`); the last part is the user's.
    return rctx.name.split("~")[-1].split("+")[-1]

def _is_local(registry):
    host = registry.rpartition(":")[0] if registry.count(":") == 1 else registry
    return host in ("localhost", "127.0.0.1", "[::1]") or host.startswith("127.")

def _blob(rctx, digest):
    return "layout/blobs/sha256/" + digest[len("sha256:"):]

def _read_json(rctx, path):
    return json.decode(rctx.read(path))

def _write_descriptor(rctx, prefix, descriptor):
    rctx.file(prefix + "_descriptor.json", json.encode(descriptor))
    rctx.file(prefix + "_digest", descriptor["digest"])

def _image(rctx, i, descriptor, sources):
    manifest = _read_json(rctx, _blob(rctx, descriptor["digest"]))
    config_path = _blob(rctx, manifest["config"]["digest"])
    config = _read_json(rctx, config_path)
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    layers = manifest.get("layers", [])
    if len(diff_ids) != len(layers):
        fail("pull(name = %r): image %s has %d layers but %d diff_ids in its config" % (_apparent_name(rctx), descriptor["digest"], len(layers), len(diff_ids)))
    platform = {"os": config.get("os", ""), "architecture": config.get("architecture", "")}
    if config.get("variant"):
        platform["variant"] = config["variant"]
    prefix = "images/%d" % i
    _write_descriptor(rctx, prefix, {"mediaType": descriptor["mediaType"], "digest": descriptor["digest"], "size": descriptor["size"], "platform": platform})
    metadata = []
    blobs = []
    for j, layer in enumerate(layers):
        doc = {"diff_id": diff_ids[j], "mediaType": layer["mediaType"], "digest": layer["digest"], "size": layer["size"], "sources": sources}
        if layer.get("annotations"):
            doc["annotations"] = layer["annotations"]
        path = "%s_layers/%d.json" % (prefix, j)
        rctx.file(path, json.encode(doc))
        metadata.append(path)
        blob = _blob(rctx, layer["digest"])

        # eager: `img pull --layers` downloaded and verified every distributable layer.
        if rctx.attr.layer_handling == "eager" and rctx.path(blob).exists:
            blobs.append((j, blob))
    return """pulled_manifest(
    name = "image_{i}",
    manifest = "{manifest}",
    config = "{config}",
    descriptor = "{prefix}_descriptor.json",
    digest = "{prefix}_digest",
    os = "{os}",
    architecture = "{arch}",
    variant = "{variant}",
    layers = {layers},
    blobs = {blobs},
    blob_layers = {blob_layers},
    media_types = {media_types},
    sources = {sources},
    layer_handling = "{layer_handling}",
)
""".format(
        i = i,
        manifest = _blob(rctx, descriptor["digest"]),
        config = config_path,
        prefix = prefix,
        os = platform["os"],
        arch = platform["architecture"],
        variant = platform.get("variant", ""),
        layers = repr(metadata),
        blobs = repr([b for _, b in blobs]),
        blob_layers = repr([j for j, _ in blobs]),
        layer_handling = rctx.attr.layer_handling,
        media_types = repr([layer["mediaType"] for layer in layers]),
        sources = repr(["%s/%s" % (s["registry"], s["repository"]) for s in sources]),
    )

def _pull_impl(rctx):
    digest = _check_digest(rctx)
    if not rctx.attr.repository:
        fail("pull(name = %r): repository is required" % _apparent_name(rctx))
    # The img toolchain's node for this machine (downloaded, or the host's when opted in).
    node = rctx.read(Label("@img_rules_host_node//:node_path"))
    img = rctx.path(Label("//img/private:img.cjs"))
    env = {k: rctx.os.environ[k] for k in _AUTH_ENV if k in rctx.os.environ}
    registries = rctx.attr.registries + [rctx.attr.registry]
    helper = rctx.attr.credential_helper
    if helper and "/" in helper and not helper.startswith("/"):
        helper = str(rctx.workspace_root.get_child(helper))
    failures = []
    reference = None
    for registry in registries:
        candidate = "%s/%s@%s" % (registry, rctx.attr.repository, digest)
        rctx.delete("layout")
        argv = [node, str(img), "pull", candidate, "--output", str(rctx.path("layout"))]
        if rctx.attr.layer_handling == "eager":
            argv.append("--layers")
        if _is_local(registry):
            argv.append("--insecure")
        if helper:
            argv.extend(["--credential-helper", helper])
        rctx.report_progress("Pulling %s (%s)" % (candidate, "with every layer" if rctx.attr.layer_handling == "eager" else "manifests and configs"))
        result = rctx.execute(argv, environment = env, timeout = 600)
        if result.return_code == 0:
            reference = candidate
            break
        failures.append("%s (exit %d):\n%s" % (candidate, result.return_code, result.stderr.strip()))
    if reference == None:
        fail("pull(name = %r): img pull failed from every registry:\n%s" % (_apparent_name(rctx), "\n".join(failures)))

    base = _read_json(rctx, "layout/img-base.json")

    # Where push and load find the layers: the registry that answered first, then the other mirrors.
    sources = [{"registry": base["registry"], "repository": base["repository"]}]
    for registry in registries:
        if registry != base["registry"]:
            sources.append({"registry": registry, "repository": rctx.attr.repository})
    root = _read_json(rctx, "layout/index.json")["manifests"][0]
    if root["digest"] != digest:
        fail("pull(name = %r): the registry served %s for %s" % (_apparent_name(rctx), root["digest"], reference))
    targets = []
    if root["mediaType"] in _INDEX_TYPES or _read_json(rctx, _blob(rctx, digest)).get("manifests") != None:
        index = _read_json(rctx, _blob(rctx, digest))
        names = []
        for child in index["manifests"]:
            if child["mediaType"] in _INDEX_TYPES:
                fail("pull(name = %r): nested index %s is not supported" % (_apparent_name(rctx), child["digest"]))
            if not rctx.path(_blob(rctx, child["digest"])).exists:
                continue  # not an image (e.g. an attestation manifest): img pull left it out
            targets.append(_image(rctx, len(names), child, sources))
            names.append(":image_%d" % len(names))
        _write_descriptor(rctx, "index", {"mediaType": root["mediaType"], "digest": root["digest"], "size": root["size"]})
        targets.append("""pulled_index(
    name = "index",
    index = "{index}",
    descriptor = "index_descriptor.json",
    digest = "index_digest",
    manifests = {names},
)
""".format(index = _blob(rctx, digest), names = repr(names)))
        actual = ":index"
    else:
        targets.append(_image(rctx, 0, root, sources))
        actual = ":image_0"
    name = _apparent_name(rctx)
    aliases = 'alias(\n    name = "image",\n    actual = "%s",\n)\n' % actual
    if name != "image":
        aliases += '\nalias(\n    name = "%s",\n    actual = "%s",\n)\n' % (name, actual)
    rctx.file("BUILD.bazel", """# Generated by img_rules' pull: {reference} (layer_handling = {layer_handling}).
load("{bzl}", "pulled_index", "pulled_manifest")

package(default_visibility = ["//visibility:public"])

exports_files(glob(["layout/**"]))

{targets}
{aliases}""".format(
        reference = reference,
        layer_handling = rctx.attr.layer_handling,
        bzl = str(Label("//img/private:pulled.bzl")),
        targets = "\n".join(targets),
        aliases = aliases,
    ))

LAYER_HANDLING_DOC = """When the layers' bytes are fetched: `shallow` (default: never by Bazel; their registry is
recorded, push mounts them and load streams them from there), `eager` (this repository rule downloads
and verifies every layer: offline builds, docker-save tarballs) or `lazy` (one build action per layer
downloads it when something needs it - a layout, an eager push, or any push or load target with the
lazy strategy - so it lands in the remote cache and flows from there to lazy push/load; the actions
need network access to the registry)."""

LAYER_HANDLING_VALUES = ["shallow", "eager", "lazy"]

pull = repository_rule(
    implementation = _pull_impl,
    doc = """Pull an image (or multi-platform index) by digest: manifests and configs, and the layers as
`layer_handling` says.

The repository's `:image` target (also `:<name>`, so `base = "@ubuntu"` works) is an image_manifest
or image_index base; with `shallow` its layers stay in the registry, where push mounts them and load
streams them from. Auth: the Docker config / credential helpers, as the img CLI finds them
(DOCKER_CONFIG, REGISTRY_AUTH_FILE, HOME are passed through).""",
    attrs = {
        "registry": attr.string(doc = "Registry host[:port].", default = "index.docker.io"),
        "registries": attr.string_list(doc = "Mirrors tried in order before registry (the digest is verified whichever answers); all of them become layer sources for push and load."),
        "repository": attr.string(doc = "Repository, e.g. library/ubuntu.", mandatory = True),
        "tag": attr.string(doc = "Informational; the digest decides what is pulled."),
        "digest": attr.string(doc = "Required: sha256:<64 hex> of the manifest or index."),
        "credential_helper": attr.string(doc = "A Bazel-protocol credential helper (path relative to the workspace, absolute, or a name on PATH), asked before the Docker config; default $IMG_CREDENTIAL_HELPER."),
        "layer_handling": attr.string(doc = LAYER_HANDLING_DOC, default = "shallow", values = LAYER_HANDLING_VALUES),
    },
    environ = _AUTH_ENV + ["IMG_RULES_NODE", "PATH"],
)
