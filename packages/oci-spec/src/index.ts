export type { ShapeName } from './canonical-json.js';
export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export type { Digest } from './digest.js';
export {
  digestAlgorithm,
  digestHex,
  isDigest,
  parseDigest,
  sha256Digest,
  sha256FromHex,
  verifyBytes,
} from './digest.js';
export {
  asIndex,
  asManifest,
  documentKind,
  parseJson,
  parseLayerMetadata,
  unixToRfc3339,
} from './documents.js';
export { EMPTY_DESCRIPTOR, EMPTY_JSON } from './empty.js';
export type { SpecErrorCode } from './errors.js';
export { ImgError, SpecError } from './errors.js';
export type { LayerCompression, MediaTypeFamily, MediaTypeName } from './media-types.js';
export {
  familyOf,
  isDistributable,
  isImageConfig,
  isIndex,
  isLayer,
  isManifest,
  isSchema1,
  layerCompression,
  MANIFEST_ACCEPT,
  MediaType,
  ociLayerMediaType,
  toDockerMediaType,
  toOciMediaType,
} from './media-types.js';
export {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformEquals,
  platformMatchRank,
  selectPlatform,
} from './platform.js';
export type {
  BlobSource,
  ContainerConfig,
  Descriptor,
  History,
  ImageConfig,
  ImageLayoutHeader,
  Index,
  LayerMetadata,
  Manifest,
  Platform,
  RootFS,
} from './types.js';
export type { DocumentKind, Violations } from './validate.js';
export {
  assertValid,
  configViolations,
  imageViolations,
  indexViolations,
  manifestViolations,
  schemaViolations,
} from './validate.js';
export type { ExpectedContent } from './verify-stream.js';
export { createVerifyStream } from './verify-stream.js';
