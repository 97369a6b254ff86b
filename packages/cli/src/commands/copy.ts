import { parsePlatform } from '@img/oci-spec';
import type { Command } from 'commander';
import { type CopyFlags, copyImage } from '../image/copy-image.js';
import { INPUT_HELP, openInput } from '../image/open-input.js';
import type { Io } from '../io.js';
import { collect } from '../util/flags.js';
import { humanSize } from '../util/human.js';
import { addRefOutputFlags, type RefOutputFlags, writeRefOutputs } from '../util/ref-outputs.js';
import { addRegistryFlags } from '../util/registry.js';

interface CopyCommandFlags extends CopyFlags, RefOutputFlags {
  platform?: string;
  json?: boolean;
}

export function registerCopy(program: Command, io: Io): void {
  const cmd = program
    .command('copy')
    .alias('cp')
    .description(
      'copy an image or index (every platform, with its referrers) to a registry: present blobs skipped, same-registry blobs mounted, the rest streamed',
    )
    .argument('<source>', INPUT_HELP)
    .argument('<destination>', "REGISTRY/REPOSITORY[:TAG] (no tag: the source's tag, else by digest)")
    .option('-t, --tag <tag>', 'another tag to point at it (repeatable)', collect)
    .option(
      '--platform <os/arch[/variant]>',
      'copy only this platform of an index (its manifest becomes the root)',
    )
    .option('--no-referrers', 'do not copy referrers (SBOMs, signatures) of a registry source')
    .option('--json', 'print {source, digest, references, referrers, blobs...}');
  addRefOutputFlags(cmd);
  addRegistryFlags(cmd).action(async (src: string, dst: string, flags: CopyCommandFlags) => {
    const { platform, ...rest } = flags;
    const source = await openInput(src, {
      ...rest,
      ...(platform ? { platform: parsePlatform(platform, '--platform') } : {}),
    });
    try {
      const result = await copyImage(source, dst, rest, io);
      await writeRefOutputs(flags, result.references, result.digest);
      io.result?.({
        source: result.source,
        digest: result.digest,
        references: result.references,
        referrers: result.referrers,
        ...result.summary,
      });
      for (const r of result.references) io.out(r);
      if (!io.quiet) {
        const s = result.summary;
        io.err(
          `blobs: ${s.blobsUploaded} uploaded, ${s.blobsSkipped} skipped, ${s.blobsMounted} mounted (${humanSize(s.bytesUploaded)} sent); ${result.referrers.length} referrer(s) copied`,
        );
      }
    } finally {
      await source.close();
    }
  });
}
