"""file_metadata(): per-file tar header settings for image_layer, as a JSON string."""

_FIELDS = ["mode", "uid", "gid", "uname", "gname", "mtime", "pax_records"]

def file_metadata(*, mode = None, uid = None, gid = None, uname = None, gname = None, mtime = None, pax_records = None):
    """JSON-encoded metadata for image_layer's `default_metadata` and `file_metadata`.

    Only the arguments given are emitted.

    Args:
      mode: permission bits as an octal string, e.g. "0644".
      uid: owner user id (int).
      gid: owner group id (int).
      uname: owner user name.
      gname: owner group name.
      mtime: modification time, RFC 3339 (e.g. "2024-01-01T00:00:00Z") or Unix seconds.
      pax_records: dict of extra PAX records, e.g. {"SCHILY.xattr.user.k": "v"}.

    Returns:
      A JSON string.
    """
    values = {"mode": mode, "uid": uid, "gid": gid, "uname": uname, "gname": gname, "mtime": mtime, "pax_records": pax_records}
    return json.encode({k: values[k] for k in _FIELDS if values[k] != None})

def normalize_metadata_json(text, attribute):
    """Check a file_metadata JSON string at analysis time and rewrite it compactly for `img layer`.

    rules_img's key `pax_records` becomes the CLI's `paxRecords`; unknown keys fail naming `attribute`.
    """
    value = json.decode(text, default = None)
    if type(value) != "dict":
        fail("%s: %r is not a JSON object (use file_metadata(...))" % (attribute, text))
    out = {}
    for k, v in value.items():
        if k == "pax_records" or k == "paxRecords":
            out["paxRecords"] = v
        elif k in _FIELDS:
            out[k] = v
        else:
            fail("%s: unknown field %r (expected one of %s)" % (attribute, k, ", ".join(_FIELDS)))
    return json.encode(out)
