"""The OCI platform of the target configuration, and the transitions behind `platform`/`platforms`."""

# (OCI os, @platforms//os constraint)
_OSES = [
    ("linux", "linux"),
    ("windows", "windows"),
    ("freebsd", "freebsd"),
    ("darwin", "macos"),
]

# (OCI architecture, OCI variant, @platforms//cpu constraint); arm64 gets variant v8 like containerd.
_CPUS = [
    ("amd64", "", "x86_64"),
    ("arm64", "v8", "aarch64"),
    ("arm", "v7", "armv7"),
    ("arm", "", "arm"),
    ("386", "", "x86_32"),
    ("386", "", "i386"),
    ("ppc64le", "", "ppc64le"),
    ("s390x", "", "s390x"),
    ("riscv64", "", "riscv64"),
]

ImgPlatformInfo = provider(
    doc = "The OCI platform of a configuration's target platform; os is None when it has no known constraints.",
    fields = ["os", "architecture", "variant"],
)

def _has(ctx, name):
    return ctx.target_platform_has_constraint(getattr(ctx.attr, name)[platform_common.ConstraintValueInfo])

def _img_target_platform_impl(ctx):
    os = None
    for oci, c in _OSES:
        if _has(ctx, "_os_" + c):
            os = oci
            break
    cpu = (None, None)
    for arch, variant, c in _CPUS:
        if _has(ctx, "_cpu_" + c):
            cpu = (arch, variant)
            break
    if os == None or cpu[0] == None:
        return [ImgPlatformInfo(os = None, architecture = None, variant = None)]
    return [ImgPlatformInfo(os = os, architecture = cpu[0], variant = cpu[1])]

# One target per configuration maps the target platform's constraints to an OCI platform, so image
# rules need one dependency edge instead of one per known constraint value.
img_target_platform = rule(
    implementation = _img_target_platform_impl,
    attrs = dict(
        [("_os_" + c, attr.label(default = Label("@platforms//os:" + c))) for _, c in _OSES] +
        [("_cpu_" + c, attr.label(default = Label("@platforms//cpu:" + c))) for _, _, c in _CPUS],
    ),
)

PLATFORM_ATTRS = {
    "_target_platform": attr.label(default = Label("//img/private:target_platform"), providers = [ImgPlatformInfo]),
}

def target_platform(ctx, attribute = "platform"):
    """struct(os, architecture, variant) of the target platform; fails when it has no os/cpu constraint."""
    p = ctx.attr._target_platform[ImgPlatformInfo]
    if p.os == None:
        fail("%s: the target platform has no @platforms//os and @platforms//cpu constraint values this rule knows (os: linux, windows, freebsd, macos; cpu: x86_64, aarch64, armv7, arm, x86_32, ppc64le, s390x, riscv64); set `%s` to such a platform" % (attribute, attribute))
    return p

def platform_string(p):
    """os/architecture[/variant], the form `img manifest --platform` takes."""
    return "/".join([p.os, p.architecture] + ([p.variant] if p.variant else []))

_PLATFORMS = "//command_line_option:platforms"

def _platform_transition_impl(settings, attr):
    if attr.platform:
        return {_PLATFORMS: [str(attr.platform)]}
    return {_PLATFORMS: settings[_PLATFORMS]}

# image_manifest(platform = ...): build the manifest and everything below it for that platform.
platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = [_PLATFORMS],
    outputs = [_PLATFORMS],
)

def _platforms_split_impl(settings, attr):
    if not attr.platforms:
        return {"": {_PLATFORMS: settings[_PLATFORMS]}}
    return {str(p): {_PLATFORMS: [str(p)]} for p in attr.platforms}

# image_index(platforms = [...]): one configuration of `manifests` per platform.
platforms_split_transition = transition(
    implementation = _platforms_split_impl,
    inputs = [_PLATFORMS],
    outputs = [_PLATFORMS],
)
