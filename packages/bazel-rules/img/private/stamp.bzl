"""Templates and stamping: which values are Go templates, whether Bazel's workspace status is used."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load(":settings.bzl", "setting")

StampDetectInfo = provider(doc = "Whether Bazel's --stamp is on.", fields = {"enabled": "bool"})

def _stamp_detector_impl(ctx):
    return [StampDetectInfo(enabled = ctx.attr.enabled)]

stamp_detector = rule(
    implementation = _stamp_detector_impl,
    attrs = {"enabled": attr.bool()},
)

STAMP_VALUES = ["auto", "force", "disabled"]

STAMP_ATTRS = {
    "build_settings": attr.string_keyed_label_dict(
        doc = "Template variables from build settings: {NAME: label of a string_flag (bazel_skylib)}; `{{.NAME}}` in templated attributes becomes the flag's value, no --stamp needed.",
        providers = [BuildSettingInfo],
    ),
    "stamp": attr.string(
        doc = "Stamping of templated values with Bazel's workspace status (`{{.BUILD_EMBED_LABEL}}`, `{{.STABLE_*}}`, `{{.BUILD_TIMESTAMP_RFC3339}}`...): `auto` defers to `//img/settings:stamp` (whose `auto` needs Bazel's --stamp), `force` stamps whenever a value is a template, `disabled` never.",
        default = "auto",
        values = STAMP_VALUES,
    ),
    "_bazel_stamp": attr.label(default = Label("//img/private:bazel_stamp"), providers = [StampDetectInfo]),
}

def has_template(values):
    """True when any string of `values` (strings, lists, dicts of strings) holds `{{`."""
    for v in values:
        if type(v) == "string":
            if "{{" in v:
                return True
        elif type(v) == "list":
            for x in v:
                if "{{" in x:
                    return True
        elif type(v) == "dict":
            for x in v.values():
                if "{{" in x:
                    return True
    return False

def stamping(ctx, templated):
    """rules_img's rule: force stamps when something is templated; auto also needs Bazel's --stamp."""
    mode = ctx.attr.stamp
    if mode == "auto":
        mode = setting(ctx, "stamp")
    if not templated or mode == "disabled":
        return False
    if mode == "force":
        return True
    return ctx.attr._bazel_stamp[StampDetectInfo].enabled

def build_setting_values(ctx):
    """{NAME: value} of `build_settings`."""
    return {key: target[BuildSettingInfo].value for key, target in ctx.attr.build_settings.items()}

def stamp_files(ctx):
    """Bazel's stable-status.txt and volatile-status.txt."""
    return [ctx.info_file, ctx.version_file]
