import { ImgError } from '@img/oci-spec';
import { CliError } from '../util/errors.js';

/**
 * `err` with the spec key path `where` (`image.json: layers[0]`) in front of its message, unless the
 * message names the spec file already. An ImgError keeps its class and code (callers match on
 * `code`); anything else (a RangeError from zlib, say) becomes one IMG_CLI_INVALID_SPEC line.
 */
export function errorAtKey(err: unknown, where: string, specPath: string): Error {
  if (err instanceof ImgError) {
    if (!err.message.startsWith(`${specPath}:`)) err.message = `${where}: ${err.message}`;
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CliError('IMG_CLI_INVALID_SPEC', `${where}: ${message}`, { cause: err });
}

/** Run one stage of a spec build; its errors name the key path `where`. */
export async function atSpecKey<T>(where: string, specPath: string, stage: () => T | Promise<T>): Promise<T> {
  try {
    return await stage();
  } catch (err) {
    throw errorAtKey(err, where, specPath);
  }
}
