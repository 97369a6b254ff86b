import { stat } from 'node:fs/promises';
import { readLayout } from '@img/oci-layout';
import type { ImageGraph } from '@img/oci-spec';
import type { Io } from '../io.js';

async function isSpecFile(source: string): Promise<boolean> {
  if (!source.endsWith('.json')) return false;
  return (await stat(source).catch(() => undefined))?.isFile() === true;
}

/**
 * The image a command's source argument names: a layout (`oci:DIR[:REF]`, `oci-archive:FILE[:REF]`,
 * a layout path) or an image spec JSON file, built in-process with its layer blobs in `workDir` (the
 * caller removes it once the image has been used).
 */
export async function openImageSource(source: string, workDir: string, io: Io): Promise<ImageGraph> {
  if (await isSpecFile(source)) {
    // Imported here: a layout needs none of the image builders (nor their start-up time).
    const { buildSpecContent } = await import('./build-spec.js');
    return (await buildSpecContent(source, workDir, io)).graph;
  }
  return await readLayout(source);
}
