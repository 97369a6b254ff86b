import { formatReference, parseReference, RegistryError } from '@img/registry-client';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { addRegistryFlags, type RegistryFlags, withRegistryClient } from '../util/registry.js';

export function registerDelete(program: Command, io: Io): void {
  const cmd = program
    .command('delete')
    .description(
      'delete a manifest by digest (and with it every tag on it), or a tag where the registry can delete tags',
    )
    .argument('<reference>', 'REGISTRY/REPOSITORY@DIGEST or REGISTRY/REPOSITORY:TAG')
    .option('--json', 'print {"deleted"}');
  addRegistryFlags(cmd).action(async (text: string, flags: RegistryFlags) => {
    const ref = parseReference(text, { defaultTag: false });
    if (ref.tag === undefined && ref.digest === undefined) {
      throw new CliError('IMG_CLI_USAGE', `${text}: give a tag or a digest to delete`);
    }
    await withRegistryClient(flags, async (client) => {
      try {
        await client.deleteManifest(ref.digest ? { ...ref, tag: undefined } : ref);
      } catch (err) {
        const refused = err instanceof RegistryError && (err.status === 400 || err.status === 405);
        if (!refused || ref.digest) throw err;
        const head = await client.headManifest(ref).catch(() => undefined);
        const byDigest = head
          ? `${ref.registry}/${ref.repository}@${head.digest}`
          : `${ref.registry}/${ref.repository}@sha256:...`;
        throw new CliError(
          'IMG_CLI_INVALID_INPUT',
          `${formatReference(ref)}: the registry does not delete tags (HTTP ${(err as RegistryError).status}); img delete ${byDigest} deletes the manifest and every tag on it`,
          { cause: err },
        );
      }
    });
    const deleted = formatReference(ref.digest ? { ...ref, tag: undefined } : ref);
    io.result?.({ deleted });
    io.out(deleted);
  });
}
