import type { Command } from 'commander';
import { openImageSource } from '../image/open-source.js';
import { type PushFlags, pushContent } from '../image/push-content.js';
import type { Io } from '../io.js';
import { collect } from '../util/flags.js';
import { addRegistryFlags } from '../util/registry.js';
import { createWorkDir, removeWorkDir } from '../util/work-dir.js';

async function runPush(source: string, ref: string, flags: PushFlags, io: Io): Promise<void> {
  const workDir = await createWorkDir('img-push-');
  try {
    await pushContent(await openImageSource(source, workDir, io), ref, flags, io);
  } finally {
    await removeWorkDir(workDir);
  }
}

export function registerPush(program: Command, io: Io): void {
  const cmd = program
    .command('push')
    .description(
      'push an image or index to a registry: blobs the registry has are skipped, base layers mounted',
    )
    .argument(
      '<source>',
      'oci:DIR, oci-archive:FILE, a layout path, or an image spec JSON (built on the fly)',
    )
    .argument('<reference>', 'registry/repository[:tag]')
    .option('-t, --tag <tag>', 'another tag to push (repeatable)', collect)
    .option('--json', 'print a JSON summary (blobs uploaded, skipped, mounted, bytes sent)');
  addRegistryFlags(cmd).action(async (source: string, ref: string, flags: PushFlags) => {
    await runPush(source, ref, flags, io);
  });
}
