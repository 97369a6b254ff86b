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

# Settings every img rule reads (layers, manifests, indexes and the deploy rules).
SETTING_NAMES = [
    "compress",
    "compression_jobs",
    "compression_level",
    "estargz",
    "create_parent_directories",
    "layer_tree_artifact_handling",
    "runfiles_sharing_mode",
    "runfiles_shared_path",
    "stamp",
    "stamp_created",
    "push_at_build_time",
    "push_at_build_time_content",
]

# Settings only image_push / image_load read: a value of one of them never changes, nor fails, the
# analysis of a layer, manifest or index (so a .bazelrc line for lazy push leaves images alone).
DEPLOY_SETTING_NAMES = [
    "push_strategy",
    "load_strategy",
    "load_daemon",
    "credential_helper",
    "credential_helper_remote_cache",
    "remote_cache",
    "remote_instance_name",
    "destination_registry",
    "docker_config_path",
]

ImgSettingsInfo = provider(
    doc = "Every //img/settings value img rules read, once per configuration (//img/private:settings).",
    fields = SETTING_NAMES,
)

ImgDeploySettingsInfo = provider(
    doc = "The //img/settings values of image_push / image_load (//img/private:deploy_settings).",
    fields = DEPLOY_SETTING_NAMES,
)

def _collect(ctx, names, info):
    return [info(**{name: getattr(ctx.attr, name)[ImgSettingInfo].value for name in names})]

def _img_settings_impl(ctx):
    return _collect(ctx, SETTING_NAMES, ImgSettingsInfo)

def _img_deploy_settings_impl(ctx):
    return _collect(ctx, DEPLOY_SETTING_NAMES, ImgDeploySettingsInfo)

# One target per configuration collects the settings, so each img rule has a single settings edge.
# A bad value of any of them fails the first img target's analysis.
img_settings = rule(
    implementation = _img_settings_impl,
    attrs = {name: attr.label(default = _label(name), providers = [ImgSettingInfo]) for name in SETTING_NAMES},
)

# The same for the deploy settings: only push and load targets depend on it.
img_deploy_settings = rule(
    implementation = _img_deploy_settings_impl,
    attrs = {name: attr.label(default = _label(name), providers = [ImgSettingInfo]) for name in DEPLOY_SETTING_NAMES},
)

SETTINGS_ATTRS = {
    "_settings": attr.label(default = Label("//img/private:settings"), providers = [ImgSettingsInfo]),
}

DEPLOY_SETTINGS_ATTRS = {
    "_deploy_settings": attr.label(default = Label("//img/private:deploy_settings"), providers = [ImgDeploySettingsInfo]),
}

def setting(ctx, name):
    """The value of //img/settings:<name> as seen by this rule."""
    if name in DEPLOY_SETTING_NAMES:
        return getattr(ctx.attr._deploy_settings[ImgDeploySettingsInfo], name)
    return getattr(ctx.attr._settings[ImgSettingsInfo], name)
