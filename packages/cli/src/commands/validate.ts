import { validateImageGraph } from '@img/oci-layout';
import { parsePlatform } from '@img/oci-spec';
import type { Command } from 'commander';
import { INPUT_HELP, openInput } from '../image/open-input.js';
import type { Io } from '../io.js';
import { humanSize } from '../util/human.js';
import { addRegistryFlags, type RegistryFlags } from '../util/registry.js';

interface ValidateFlags extends RegistryFlags {
  allowMissingBlobs?: boolean;
  fast?: boolean;
  json?: boolean;
  platform?: string;
}

export function registerValidate(program: Command, io: Io): void {
  const cmd = program
    .command('validate')
    .description(
      'check an image: schemas, every blob digest and size, diff_ids against decompressed layers (registry layers are streamed, not stored)',
    )
    .argument('<image>', INPUT_HELP)
    .option('--allow-missing-blobs', 'accept a shallow layout (absent layers are counted, not checked)')
    .option('--fast', 'skip decompressing layers (no diff_id check)')
    .option('--platform <os/arch[/variant]>', 'a registry index: only this platform')
    .option('--json', 'print the report {root, images, layersChecked, layersMissing, bytesChecked}');
  addRegistryFlags(cmd).action(async (ref: string, flags: ValidateFlags) => {
    const { platform, ...registryFlags } = flags;
    const input = await openInput(ref, {
      ...registryFlags,
      ...(platform ? { platform: parsePlatform(platform, '--platform') } : {}),
    });
    try {
      const report = await validateImageGraph(input.graph, {
        where: input.name,
        ...(flags.allowMissingBlobs ? { allowMissingBlobs: true } : {}),
        ...(flags.fast ? { fast: true } : {}),
      });
      io.result?.({ reference: input.name, ...report });
      if (!io.result) {
        io.out(
          `PASS ${input.name}@${report.root.digest}: ${report.images} image(s), ${report.layersChecked} layer(s) checked (${humanSize(report.bytesChecked)})${report.layersMissing ? `, ${report.layersMissing} absent` : ''}`,
        );
      }
    } finally {
      await input.close();
    }
  });
}
