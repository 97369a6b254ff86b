import { readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirectory, systemErrorReason, writeFileAtomic as writeAtomic } from '@img/atomic-write';
import { canonicalJsonBytes, type Descriptor, parseJson } from '@img/oci-spec';
import { CliError } from './errors.js';

/**
 * Write a file under a temp name beside it and rename it into place (creating its directory), so
 * readers never see half a file and an interrupted img leaves nothing.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await makeDirectory(dirname(path));
  await writeAtomic(path, data);
}

/**
 * Run the last step of a command that already wrote `output` (e.g. writing the metadata after the
 * blob): if the step fails, `output` is removed too, so a failed command leaves no output behind.
 */
export async function removeIfFails<T>(output: string | undefined, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (output !== undefined) await rm(output, { force: true });
    throw err;
  }
}

/** Read an input file, failing with an error that names it. */
export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (systemErrorReason(err) ?? (err as Error).message);
    throw new CliError('IMG_CLI_INVALID_INPUT', `${what} ${path}: ${why}`, { cause: err });
  }
}

export async function readJsonInput(path: string, what: string): Promise<unknown> {
  return parseJson(await readInput(path, what), `${what} ${path}`);
}

/** Write the optional `--descriptor` and `--digest` outputs of a document-producing command. */
export async function writeDescriptorOutputs(
  descriptor: Descriptor,
  paths: { descriptor?: string | undefined; digest?: string | undefined },
): Promise<void> {
  if (paths.descriptor) await writeFileAtomic(paths.descriptor, canonicalJsonBytes(descriptor, 'descriptor'));
  if (paths.digest) await writeFileAtomic(paths.digest, descriptor.digest);
}
