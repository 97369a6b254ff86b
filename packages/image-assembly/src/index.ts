export type { BaseImage } from './base-image.js';
export { baseLayers, checkBaseImage } from './base-image.js';
export type { BuildImageOptions, BuiltImage } from './build-image.js';
export {
  BASE_DIGEST_ANNOTATION,
  BASE_NAME_ANNOTATION,
  buildImage,
  DEFAULT_HISTORY_CREATED,
  subjectDescriptor,
} from './build-image.js';
export type { BuildIndexOptions, BuiltIndex } from './build-index.js';
export { buildIndex } from './build-index.js';
export type { ConfigSettings } from './container-config.js';
export { applyConfigSettings, envFromList, mergeConfigFragment } from './container-config.js';
export type { AssemblyErrorCode } from './errors.js';
export { AssemblyError } from './errors.js';
