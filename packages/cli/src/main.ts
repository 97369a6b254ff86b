import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { type Io, processIo } from './io.js';
import { formatError } from './util/error-line.js';

/** The @img/cli version (changesets bumps package.json; the bundle inlines it). */
export const VERSION: string = packageJson.version;

type Register = (program: Command, io: Io) => void;

/**
 * Each subcommand's module, in help order, imported only when it is needed: `img push` then loads
 * neither gRPC (load) nor ajv and the layer writers (build), which halves its start-up time.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['build', async () => (await import('./commands/build.js')).registerBuild],
  ['layer', async () => (await import('./commands/layer.js')).registerLayer],
  ['layer-from-tar', async () => (await import('./commands/layer-from-tar.js')).registerLayerFromTar],
  ['manifest', async () => (await import('./commands/manifest.js')).registerManifest],
  ['index', async () => (await import('./commands/index-cmd.js')).registerIndex],
  ['layout', async () => (await import('./commands/layout.js')).registerLayout],
  ['load', async () => (await import('./commands/load.js')).registerLoad],
  ['pull', async () => (await import('./commands/pull.js')).registerPull],
  ['push', async () => (await import('./commands/push.js')).registerPush],
  ['deploy', async () => (await import('./commands/deploy.js')).registerDeploy],
  ['registry', async () => (await import('./commands/registry.js')).registerRegistry],
  ['validate', async () => (await import('./commands/validate.js')).registerValidate],
  ['inspect', async () => (await import('./commands/inspect.js')).registerInspect],
  ['estargz', async () => (await import('./commands/estargz.js')).registerEstargz],
  ['template', async () => (await import('./commands/template.js')).registerTemplate],
  ['structure-test', async () => (await import('./commands/structure-test.js')).registerStructureTest],
  ['push-blob', async () => (await import('./commands/push-at-build-time.js')).registerPushBlob],
  ['push-manifest', async () => (await import('./commands/push-at-build-time.js')).registerPushManifest],
];

/** The subcommand `argv` runs (global options take no values), if it is one of ours. */
function commandOf(argv: readonly string[]): string | undefined {
  const name = argv.find((a) => !a.startsWith('-'));
  return COMMANDS.some(([n]) => n === name) ? name : undefined;
}

/**
 * The img command with every subcommand registered, or only the one `argv` names (what `main` runs;
 * help and unknown commands get them all).
 */
export async function createProgram(io: Io, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('img')
    .description('build, inspect and ship OCI container images without a Docker daemon')
    .version(VERSION)
    .option('-q, --quiet', 'no progress output')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => io.err(s.trimEnd()),
      outputError: () => {},
    });
  program.hook('preAction', (cmd) => {
    if (cmd.opts().quiet) io.quiet = true;
  });
  const only = commandOf(argv);
  const registers = await Promise.all(
    COMMANDS.filter(([n]) => !only || n === only).map(([, load]) => load()),
  );
  for (const register of registers) register(program, io);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run img with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  try {
    const program = await createProgram(io, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      io.err(`img: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}`);
      return 2;
    }
    io.err(formatError(err));
    return 1;
  }
}
