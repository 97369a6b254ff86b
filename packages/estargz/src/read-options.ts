import { type DecompressionLimits, LayerError } from '@img/layer-writer';
import { DEFAULT_MAX_TOC_SIZE } from './constants.js';
import { EstargzError } from './errors.js';

/** Options of openEstargz: the caps on an untrusted blob (each defaults to its DEFAULT_* constant). */
export interface EstargzReadOptions extends DecompressionLimits {
  /** Largest TOC, compressed or not. Default DEFAULT_MAX_TOC_SIZE (64 MiB). */
  readonly maxTocSize?: number;
}

/** The CLI's `--limit` name of maxTocSize. */
export const TOC_SIZE_LIMIT_NAME = 'toc-size';

export function resolveMaxTocSize(options: EstargzReadOptions): number {
  const value = options.maxTocSize ?? DEFAULT_MAX_TOC_SIZE;
  if (typeof value !== 'number' || !(value >= 1) || !(Number.isSafeInteger(value) || value === Infinity)) {
    throw new EstargzError(
      'IMG_ESTARGZ_INVALID_OPTION',
      `maxTocSize: expected a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function tocTooLarge(where: string, what: string, max: number): EstargzError {
  return new EstargzError(
    'IMG_ESTARGZ_LIMIT_EXCEEDED',
    `${where}: ${what} is larger than ${max} bytes (raise with the maxTocSize option or --limit ${TOC_SIZE_LIMIT_NAME}=N)`,
  );
}

/** layer-writer's cap errors as EstargzErrors (same message, code IMG_ESTARGZ_LIMIT_EXCEEDED). */
export function asEstargzLimit(err: unknown): unknown {
  if (err instanceof LayerError && err.code === 'IMG_LAYER_LIMIT_EXCEEDED') {
    return new EstargzError('IMG_ESTARGZ_LIMIT_EXCEEDED', err.message, { cause: err });
  }
  return err;
}
