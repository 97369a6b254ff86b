export type { DirectorySinkOptions } from './directory-sink.js';
export { checkLayoutDirectory, DirectorySink } from './directory-sink.js';
export type { WriteDockerArchiveOptions } from './docker-archive.js';
export { selectImage, writeDockerArchive } from './docker-archive.js';
export type { LayoutErrorCode } from './errors.js';
export { LayoutError } from './errors.js';
export type { BlobHandle, ImageContent, ResolvedManifest } from './image-content.js';
export { listManifests, reachableDescriptors } from './image-content.js';
export { mergeIndexEntries } from './index-merge.js';
export type { LayoutLock, LayoutLockOptions } from './layout-lock.js';
export { acquireLayoutLock, DEFAULT_LOCK_TIMEOUT_MS, LAYOUT_LOCK_FILE } from './layout-lock.js';
export type { LayoutSource } from './layout-source.js';
export { DirectorySource, TarSource } from './layout-source.js';
export type { BaseInfo, ReadLayout } from './read-layout.js';
export { BASE_INFO_FILE, openLayoutSource, readLayout } from './read-layout.js';
export type { FileSink } from './sinks.js';
export { layoutMemberHeader, StreamSink, TarSink } from './sinks.js';
export type { ValidateLayoutOptions, ValidationReport } from './validate-layout.js';
export { validateLayout } from './validate-layout.js';
export type { WriteLayoutOptions } from './write-layout.js';
export {
  blobPath,
  CONTAINERD_NAME_ANNOTATION,
  layoutIndex,
  OCI_LAYOUT_FILE,
  REF_NAME_ANNOTATION,
  SOURCES_FILE,
  writeOciLayout,
} from './write-layout.js';
