"""Paths inside an image: normalised at analysis time so a bad key fails early and names its attribute."""

def normalize_image_path(path, attribute, key_kind = "key"):
    """Normalise `path` like the layer writer does; fail naming `attribute` when it escapes the root.

    Leading "/" and "./", empty and "." segments are dropped, ".." climbs one segment.

    Args:
      path: the path as the user wrote it, e.g. "/app/bin/server".
      attribute: attribute name for the error message, e.g. "srcs".
      key_kind: what the path is in that attribute ("key", "value").

    Returns:
      The normalised path without a leading "/" ("" for the root), keeping a trailing "/" if given.
    """
    if "\0" in path:
        fail("%s: %s %r contains a NUL byte" % (attribute, key_kind, path))
    if "\n" in path:
        fail("%s: %s %r contains a newline" % (attribute, key_kind, path))
    out = []
    for segment in path.replace("\\", "/").split("/"):
        if segment == "" or segment == ".":
            continue
        if segment == "..":
            if not out:
                fail("%s: %s %r escapes the image root" % (attribute, key_kind, path))
            out.pop()
            continue
        out.append(segment)
    result = "/".join(out)
    if path.endswith("/") and result:
        result += "/"
    return result
