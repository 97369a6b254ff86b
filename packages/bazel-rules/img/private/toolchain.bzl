"""The img toolchain: a Node.js runtime plus the bundled img CLI (img/private/img.cjs)."""

TOOLCHAIN_TYPE = Label("//img:toolchain_type")

ImgToolInfo = provider(
    doc = "How actions run the img CLI.",
    fields = {
        "node_executable": "File: a hermetic node binary, or None when `node_path` names a host node",
        "node_path": "string: absolute path of the host node binary (used when node_executable is None)",
        "node_files": "depset of File: node and its runfiles (empty for a host node)",
        "node_version": "string: e.g. v20.20.2 (informational)",
        "img": "File: the single-file img CLI bundle",
    },
)

def _img_toolchain_impl(ctx):
    if ctx.attr.node and ctx.attr.node_path:
        fail("give either node or node_path, not both")
    if ctx.attr.node:
        node = ctx.executable.node
        files = depset(
            [node],
            transitive = [ctx.attr.node[DefaultInfo].files, ctx.attr.node[DefaultInfo].default_runfiles.files],
        )
        info = ImgToolInfo(node_executable = node, node_path = node.path, node_files = files, node_version = ctx.attr.node_version, img = ctx.file.img)
    elif ctx.attr.node_path:
        info = ImgToolInfo(node_executable = None, node_path = ctx.attr.node_path, node_files = depset(), node_version = ctx.attr.node_version, img = ctx.file.img)
    else:
        fail("img_toolchain needs node (a label) or node_path (an absolute path)")
    return [platform_common.ToolchainInfo(img = info)]

img_toolchain = rule(
    implementation = _img_toolchain_impl,
    doc = "Declares how to run the img CLI: which Node.js and which bundle. Register it with toolchain().",
    attrs = {
        "node": attr.label(
            doc = "A hermetic node binary (e.g. from a node distribution repository); becomes an action input.",
            executable = True,
            cfg = "exec",
            allow_files = True,
        ),
        "node_path": attr.string(doc = "Absolute path of a node binary present on every execution machine."),
        "node_version": attr.string(doc = "Version string, informational."),
        "img": attr.label(
            doc = "The img CLI bundle.",
            default = Label("//img/private:img.cjs"),
            allow_single_file = True,
        ),
    },
)
