export type { BlobLocation, BlobSource, OpenBlobOptions } from './blob-source.js';
export { bytesBlobSource, firstAvailableSource, skipBytes } from './blob-source.js';
export type { ShapeName } from './canonical-json.js';
export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export type { Digest, DigestAlgorithm } from './digest.js';
export {
  DIGEST_ALGORITHMS,
  digestAlgorithm,
  digestHex,
  isDigest,
  parseDigest,
  sha256Digest,
  sha256FromHex,
  verifyBytes,
} from './digest.js';
export type { ParsedDocument } from './document-rules.js';
export { checkBlobBytes, parseConfig, parseDocument } from './document-rules.js';
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
export type { GraphLimits } from './graph-limits.js';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_DOCUMENTS,
  DEFAULT_MAX_FAN_OUT,
  GraphBudget,
} from './graph-limits.js';
export type { ImageEntry } from './image-entries.js';
export { bestImage, listManifests, platformOfConfig, selectImage } from './image-entries.js';
export type { GraphDocument, ImageGraph, WalkOptions } from './image-graph.js';
export {
  documentLabel,
  graphBlobSource,
  isDocumentDescriptor,
  reachableDescriptors,
  walkDocuments,
} from './image-graph.js';
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
export type { AbortOptions, ProgressOptions } from './options.js';
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
  BlobKind,
  BlobProgressEvent,
  PlanProgressEvent,
  ProgressEvent,
  ProgressOperation,
  TransferOutcome,
} from './progress.js';
export { progressReporter } from './progress.js';
export type { FetchBlob } from './remote-blobs.js';
export { remoteBlobSource, withRemoteBlobs } from './remote-blobs.js';
export type {
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
