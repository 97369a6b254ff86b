"""Running the img CLI in an action, as a JSON persistent worker where Bazel allows it."""

load(":toolchain.bzl", "TOOLCHAIN_TYPE")

# Bazel starts `node img.cjs --persistent_worker` once per worker and sends each action's arguments
# (the contents of the @param file) as a JSON WorkRequest. Without workers (remote execution,
# --strategy=X=local) the same command line runs once as `node img.cjs @params`.
WORKER_EXECUTION_REQUIREMENTS = {
    "supports-workers": "1",
    "requires-worker-protocol": "json",
}

def run_img(ctx, *, mnemonic, args, inputs, outputs, progress_message, worker = True):
    """Register one action running `img <args>`.

    Args:
      ctx: rule context; the rule must declare `toolchains = [TOOLCHAIN_TYPE]`.
      mnemonic: action mnemonic, e.g. ImgLayer (also the worker pool key).
      args: ctx.actions.args() with the img subcommand and its flags; written to a param file.
      inputs: depset or list of input Files.
      outputs: list of output Files.
      progress_message: shown while the action runs.
      worker: False for actions that should not use a persistent worker.
    """
    tool = ctx.toolchains[TOOLCHAIN_TYPE].img
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    ctx.actions.run(
        executable = tool.node_executable or tool.node_path,
        # The bundle path is a startup argument, so all actions of a mnemonic share worker processes;
        # the bundle itself is in `tools`: Bazel's worker strategy requires tool files.
        arguments = [tool.img.path, args],
        tools = depset([tool.img], transitive = [tool.node_files]),
        inputs = inputs,
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = progress_message,
        execution_requirements = WORKER_EXECUTION_REQUIREMENTS if worker else {},
        toolchain = TOOLCHAIN_TYPE,
    )
