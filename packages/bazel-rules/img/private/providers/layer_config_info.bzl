"""ImageLayerConfigInfo: image config a layer brings along (layer_from_binary)."""

ImageLayerConfigInfo = provider(
    doc = """Config values a layer suggests for the image it is part of, applied by image_manifest when its
own attribute is at its default (INHERIT_FROM_BASE / empty): a later layer's entrypoint, cmd and
working_dir win over an earlier one's; env is merged (the rule's `env` wins).""",
    fields = {
        "entrypoint": "list of string: e.g. [\"/app/server\"]; [] when the layer suggests none",
        "cmd": "list of string: the binary's `args`; [] when none",
        "env": "dict string -> string: the binary's `env` / RunEnvironmentInfo",
        "working_dir": "string: e.g. /app/server.runfiles/_main; \"\" when none",
    },
)
