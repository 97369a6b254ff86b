import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { canonicalJsonBytes, type Descriptor, parseJson } from '@img/oci-spec';
import { CliError } from './errors.js';

/** Write a file under a temp name beside it and rename it into place, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Read an input file, failing with an error that names it. */
export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
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
