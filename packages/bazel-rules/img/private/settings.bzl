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
    "stamp_created",
    "push_at_build_time",
    "push_at_build_time_content",
    "push_strategy",
    "load_strategy",
    "load_daemon",
    "credential_helper",
]

ImgSettingsInfo = provider(
    doc = "Every //img/settings value, read once per configuration by //img/private:settings.",
    fields = SETTING_NAMES,
)

def _img_settings_impl(ctx):
    return [ImgSettingsInfo(**{name: getattr(ctx.attr, name)[ImgSettingInfo].value for name in SETTING_NAMES})]

# One target per configuration collects the settings, so each img rule has a single settings edge.
# It depends on every setting, so a bad value of any of them fails the first img target's analysis,
# even for settings that only later rules (push, load) consume.
img_settings = rule(
    implementation = _img_settings_impl,
    attrs = {name: attr.label(default = _label(name), providers = [ImgSettingInfo]) for name in SETTING_NAMES},
)

SETTINGS_ATTRS = {
    "_settings": attr.label(default = Label("//img/private:settings"), providers = [ImgSettingsInfo]),
}

def setting(ctx, name):
    """The value of //img/settings:<name> as seen by this rule."""
    return getattr(ctx.attr._settings[ImgSettingsInfo], name)
