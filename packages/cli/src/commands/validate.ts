import { validateLayout } from '@img/oci-layout';
import type { Command } from 'commander';
import type { Io } from '../io.js';

export function registerValidate(program: Command, io: Io): void {
  program
    .command('validate')
    .description('check a layout: schemas, every blob digest and size, diff_ids against decompressed layers')
    .argument('<layout>', 'oci:DIR, oci-archive:FILE or a path')
    .option('--allow-missing-blobs', 'accept a shallow layout (absent layers are counted, not checked)')
    .option('--fast', 'skip decompressing layers (no diff_id check)')
    .option('--json', 'print the report as JSON')
    .action(async (ref: string, flags: { allowMissingBlobs?: boolean; fast?: boolean; json?: boolean }) => {
      const report = await validateLayout(ref, {
        allowMissingBlobs: flags.allowMissingBlobs,
        fast: flags.fast,
      });
      if (flags.json) io.out(JSON.stringify(report));
      else {
        io.out(
          `PASS ${ref}@${report.root.digest}: ${report.images} image(s), ${report.layersChecked} layer(s) checked (${report.bytesChecked} bytes)${report.layersMissing ? `, ${report.layersMissing} absent` : ''}`,
        );
      }
    });
}
