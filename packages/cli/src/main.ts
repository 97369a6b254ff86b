import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { type Io, jsonIo, processIo, wantsJson } from './io.js';
import { errorDocument, exitCodeOf, formatError } from './util/error-line.js';
import { CliError } from './util/errors.js';

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
  ['pull-blob', async () => (await import('./commands/pull-blob.js')).registerPullBlob],
  ['push', async () => (await import('./commands/push.js')).registerPush],
  ['deploy', async () => (await import('./commands/deploy.js')).registerDeploy],
  ['copy', async () => (await import('./commands/copy.js')).registerCopy],
  ['ls', async () => (await import('./commands/ls.js')).registerLs],
  ['digest', async () => (await import('./commands/digest.js')).registerDigest],
  ['config', async () => (await import('./commands/config.js')).registerConfig],
  ['tag', async () => (await import('./commands/tag.js')).registerTag],
  ['delete', async () => (await import('./commands/delete.js')).registerDelete],
  ['catalog', async () => (await import('./commands/catalog.js')).registerCatalog],
  ['login', async () => (await import('./commands/login.js')).registerLogin],
  ['logout', async () => (await import('./commands/login.js')).registerLogout],
  ['registry', async () => (await import('./commands/registry.js')).registerRegistry],
  ['bes', async () => (await import('./commands/bes.js')).registerBes],
  ['validate', async () => (await import('./commands/validate.js')).registerValidate],
  ['inspect', async () => (await import('./commands/inspect.js')).registerInspect],
  ['estargz', async () => (await import('./commands/estargz.js')).registerEstargz],
  ['template', async () => (await import('./commands/template.js')).registerTemplate],
  ['structure-test', async () => (await import('./commands/structure-test.js')).registerStructureTest],
  ['push-blob', async () => (await import('./commands/push-at-build-time.js')).registerPushBlob],
  ['push-manifest', async () => (await import('./commands/push-at-build-time.js')).registerPushManifest],
  ['completion', async () => (await import('./commands/completion.js')).registerCompletion],
];

/** Commands without --json: a server reports its address as it starts, not in one document at its end. */
const NO_JSON: ReadonlySet<string> = new Set(['serve']);

/** Help text of the --json flag every command has. */
const JSON_HELP = 'print one JSON document on stdout, also on failure ({"error":{"code","message"}})';

/** Aliases of commands, as crane spells them. */
const ALIASES: Readonly<Record<string, string>> = { cp: 'copy' };

/** The subcommand `argv` runs (global options take no values), if it is one of ours. */
function commandOf(argv: readonly string[]): string | undefined {
  const first = argv.find((a) => !a.startsWith('-'));
  const name = first !== undefined ? (ALIASES[first] ?? first) : undefined;
  return COMMANDS.some(([n]) => n === name) ? name : undefined;
}

/** Every command that runs something (no subcommands of its own). */
export function leafCommands(cmd: Command): Command[] {
  return cmd.commands.length === 0 ? [cmd] : cmd.commands.flatMap(leafCommands);
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
    .option('--json', JSON_HELP)
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
  // Completion describes every command: it loads them all.
  const named = commandOf(argv);
  const only = named === 'completion' ? undefined : named;
  const registers = await Promise.all(
    COMMANDS.filter(([n]) => !only || n === only).map(([, load]) => load()),
  );
  for (const register of registers) register(program, io);
  for (const c of leafCommands(program)) {
    if (c !== program && !NO_JSON.has(c.name()) && !c.options.some((o) => o.long === '--json')) {
      c.option('--json', JSON_HELP);
    }
  }
  const overrideAll = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(overrideAll);
  };
  overrideAll(program);
  return program;
}

/** A commander parse error as the usage error it is. */
function usageError(err: CommanderError): CliError {
  const text = err.code === 'commander.help' ? 'a subcommand is required' : err.message;
  return new CliError('IMG_CLI_USAGE', text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
}

/**
 * Run img with `argv` (without node and script); resolves to the exit code: 0, 1 for an operational
 * error, 2 for a usage error (see exitCodeOf). With --json, stdout carries exactly one JSON document:
 * the command's result, or `{"error":{"code","message"}}`; human lines go to stderr.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  // `img registry serve` prints its address when it listens: a server has no one result at its end.
  const serving = commandOf(argv) === 'registry' && argv.includes('serve');
  const json = wantsJson(argv) && !serving ? jsonIo(io) : undefined;
  const runIo = json ?? io;
  try {
    const program = await createProgram(runIo, argv);
    if (argv.length === 0) {
      io.out(program.helpInformation().trimEnd());
      return 0;
    }
    await program.parseAsync([...argv], { from: 'user' });
    if (json) io.out(JSON.stringify(json.value() ?? {}));
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    const failure = err instanceof CommanderError ? usageError(err) : err;
    // `img registry` without a subcommand: commander has printed the help (to stderr) already.
    if (!(err instanceof CommanderError && err.code === 'commander.help')) io.err(formatError(failure));
    if (json) io.out(JSON.stringify(errorDocument(failure)));
    return exitCodeOf(failure);
  }
}
