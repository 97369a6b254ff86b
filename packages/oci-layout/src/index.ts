export { LayoutError } from './errors.js';
export type { LayoutErrorCode } from './errors.js';
export { listManifests, reachableDescriptors } from './image-content.js';
export type { BlobHandle, ImageContent, ResolvedManifest } from './image-content.js';
export { DirectorySink, TarSink, layoutMemberHeader, tempNameFor } from './sinks.js';
export type { FileSink } from './sinks.js';
export {
  CONTAINERD_NAME_ANNOTATION,
  OCI_LAYOUT_FILE,
  REF_NAME_ANNOTATION,
  blobPath,
  layoutIndex,
  writeOciLayout,
} from './write-layout.js';
export type { WriteLayoutOptions } from './write-layout.js';
export { selectImage, writeDockerArchive } from './docker-archive.js';
export type { WriteDockerArchiveOptions } from './docker-archive.js';
export { DirectorySource, TarSource } from './layout-source.js';
export type { LayoutSource } from './layout-source.js';
export { BASE_INFO_FILE, openLayoutSource, readLayout } from './read-layout.js';
export type { BaseInfo, ReadLayout } from './read-layout.js';
export { validateLayout } from './validate-layout.js';
export type { ValidateLayoutOptions, ValidationReport } from './validate-layout.js';
