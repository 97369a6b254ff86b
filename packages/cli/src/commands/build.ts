import type { Command } from 'commander';
import { type BuildResult, buildSpecContent } from '../image/build-spec.js';
import {
  checkOutputTarget,
  FORCE_HELP,
  type LayoutDirectoryFlags,
  parseOutputTarget,
  writeOutput,
} from '../image/output.js';
import { type PushFlags, pushContent } from '../image/push-content.js';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { collect } from '../util/flags.js';
import { addRegistryFlags } from '../util/registry.js';
import { createWorkDir, removeWorkDir } from '../util/work-dir.js';

/** `img build`'s flags. */
interface BuildFlags extends PushFlags, LayoutDirectoryFlags {
  output?: string;
  push?: string;
}

/** Build the image (or index) a spec file describes, write it to `--output` and/or push it. */
async function runBuild(specPath: string, flags: BuildFlags, io: Io): Promise<BuildResult> {
  if (!flags.output && !flags.push) throw new CliError('IMG_CLI_USAGE', 'give --output, --push, or both');
  const target = flags.output ? parseOutputTarget(flags.output) : undefined;
  if (target) await checkOutputTarget(target, flags);
  const workDir = await createWorkDir('img-build-');
  try {
    const { root, images, graph } = await buildSpecContent(specPath, workDir, io);
    if (target) {
      await writeOutput(graph, target, flags);
      io.out(`${flags.output}@${root.digest}`);
    }
    if (flags.push) await pushContent(graph, flags.push, flags, io);
    return { root, images };
  } finally {
    await removeWorkDir(workDir);
  }
}

export function registerBuild(program: Command, io: Io): void {
  const cmd = program
    .command('build')
    .description('build an image (or a multi-platform index) from an image spec JSON file')
    .argument('<spec>', 'image spec JSON file (paths inside are relative to it)')
    .option('-o, --output <target>', 'oci:DIR | oci-archive:FILE | docker-archive:FILE[:NAME:TAG]')
    .option('--force', FORCE_HELP)
    .option('--push <reference>', 'push the result to registry/repository[:tag]')
    .option('-t, --tag <tag>', 'with --push: another tag (repeatable)', collect)
    .option('--json', 'with --push: print a JSON summary');
  addRegistryFlags(cmd)
    .addHelpText(
      'after',
      `
Spec file (JSON schema with every field: image-spec.schema.json in this package; name it in "$schema"):
  { "platform": "linux/amd64", "base": "oci:DIR" (optional; also a directory from img pull),
    "layers": [ { "files": {"/app/x": "rel/path"}, "directories": {"/app/static": "rel/dir",
                  "/srv": {"source": "srv", "excludes": ["*.log", "node_modules/"], "uid": 1000, "gid": 1000}},
                  "symlinks": {"/app/y": "/app/x"}, "metadata": {"/app/x": {"mode": "0755"}},
                  "compress": "gzip" | "zstd" | "none" } ],
    "config": { "entrypoint": [], "cmd": [], "env": {}, "user": "", "workdir": "",
                "labels": {}, "exposedPorts": [], "volumes": [], "stopSignal": "",
                "healthcheck": { "test": "curl -f http://localhost/", "interval": "30s", "retries": 3 } },
    "annotations": {} }
  A list of such specs under "platforms" builds an index. Top-level fields are shared defaults: a
  platform's config is merged over them key by key (env and labels by name, arrays replaced), its
  annotations by key; its base, layers, configFragment and created replace the shared ones.
SOURCE_DATE_EPOCH sets file mtimes and the config's created time.`,
    )
    .action(async (spec: string, flags: BuildFlags) => {
      await runBuild(spec, flags, io);
    });
}
