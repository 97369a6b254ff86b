const BRAND = Symbol.for('img.error');

/**
 * Base class of every error img throws. Match on `code`, never on the message.
 * Branded with `Symbol.for('img.error')` so `instanceof` works across duplicate copies
 * of the library (the CLI is bundled into the Bazel rules, and we ship ESM and CJS).
 */
export class ImgError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (!(BRAND in value)) return false;
    // Subclasses: fall back to the prototype chain (`this` is the class `instanceof` was asked about).
    // biome-ignore lint/complexity/noThisInStatic: `this` must be the subclass here, not ImgError
    return this === ImgError || Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

export type SpecErrorCode =
  | 'IMG_INVALID_DIGEST'
  | 'IMG_DIGEST_MISMATCH'
  | 'IMG_SIZE_MISMATCH'
  | 'IMG_INVALID_PLATFORM'
  | 'IMG_INVALID_DOCUMENT'
  | 'IMG_MIXED_MEDIA_TYPES'
  | 'IMG_INVALID_LAYER_METADATA'
  | 'IMG_DOCUMENT_MISSING'
  | 'IMG_GRAPH_LIMIT'
  | 'IMG_BLOB_UNAVAILABLE';

/** Errors raised by @img/oci-spec. */
export class SpecError extends ImgError<SpecErrorCode> {}
