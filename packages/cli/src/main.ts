import { ImgError } from '@img/oci-spec';
import { Command, CommanderError } from 'commander';
import { registerBuild } from './commands/build.js';
import { registerEstargz } from './commands/estargz.js';
import { registerIndex } from './commands/index-cmd.js';
import { registerInspect } from './commands/inspect.js';
import { registerLayer } from './commands/layer.js';
import { registerLayerFromTar } from './commands/layer-from-tar.js';
import { registerLayout } from './commands/layout.js';
import { registerLoad } from './commands/load.js';
import { registerManifest } from './commands/manifest.js';
import { registerPull } from './commands/pull.js';
import { registerPush } from './commands/push.js';
import { registerValidate } from './commands/validate.js';
import { type Io, processIo } from './io.js';

export const VERSION = '0.1.0';

/** The img command with every subcommand registered. */
export function createProgram(io: Io): Command {
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
  registerBuild(program, io);
  registerLayer(program, io);
  registerLayerFromTar(program, io);
  registerManifest(program, io);
  registerIndex(program, io);
  registerLayout(program, io);
  registerLoad(program, io);
  registerPull(program, io);
  registerPush(program, io);
  registerValidate(program, io);
  registerInspect(program, io);
  registerEstargz(program, io);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run img with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      io.err(`img: ${err.message.replace(/^error: /, '')}`);
      return 2;
    }
    if (err instanceof ImgError) {
      io.err(`img: ${err.message}`);
      return 1;
    }
    io.err(`img: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
}
