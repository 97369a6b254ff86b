"""Global build settings of img_rules (string flags with enumerated values) and how rules read them."""

ImgSettingInfo = provider(
    doc = "The value of one //img/settings flag, checked against its allowed values.",
    fields = {
        "value": "string: the flag's value",
    },
)

def _img_setting_impl(ctx):
    value = ctx.build_setting_value
    allowed = ctx.attr.values
    ok = not allowed or value in allowed
    if not ok and ctx.attr.allow_integers and value.lstrip("-").isdigit():
        n = int(value)
        ok = n >= ctx.attr.min_integer and n <= ctx.attr.max_integer
    if not ok:
        extra = " or an integer from %d to %d" % (ctx.attr.min_integer, ctx.attr.max_integer) if ctx.attr.allow_integers else ""
        fail("invalid value %r for setting %s: expected one of %s%s" % (
            value,
            str(ctx.label),
            ", ".join(allowed),
            extra,
        ))
    return [ImgSettingInfo(value = value)]

img_setting = rule(
    implementation = _img_setting_impl,
    build_setting = config.string(flag = True),
    doc = "A string flag whose value must be one of `values` (or, with allow_integers, an integer in range).",
    attrs = {
        "values": attr.string_list(doc = "Allowed values; empty allows any string."),
        "allow_integers": attr.bool(default = False),
        "min_integer": attr.int(default = 0),
        "max_integer": attr.int(default = 0),
    },
)

def _label(name):
    return Label("//img/settings:" + name)

SETTING_NAMES = [
    "compress",
    "compression_jobs",
    "compression_level",
    "estargz",
    "stamp",
    "push_strategy",
    "load_strategy",
    "load_daemon",
    "credential_helper",
]

# Private attributes of every img rule: one per setting, so a bad value of any setting fails the
# analysis of the first img target, even for settings that only later rules (push, load) consume.
SETTINGS_ATTRS = {
    "_setting_" + name: attr.label(default = _label(name), providers = [ImgSettingInfo])
    for name in SETTING_NAMES
}

def setting(ctx, name):
    """The value of //img/settings:<name> as seen by this rule."""
    return getattr(ctx.attr, "_setting_" + name)[ImgSettingInfo].value
