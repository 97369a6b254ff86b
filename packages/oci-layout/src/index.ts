export type { BlobLocation, BlobSource, ImageEntry, ImageGraph } from '@img/oci-spec';
export {
  blobPath,
  fileBlobSource,
  openRegularFile,
  readRegularFile,
  regularFileSize,
  regularFileStream,
} from './blob-file.js';
export type { DirectorySinkOptions } from './directory-sink.js';
export { checkLayoutDirectory, DirectorySink } from './directory-sink.js';
export type { WriteDockerArchiveOptions } from './docker-archive.js';
export { dockerArchiveImage, writeDockerArchive } from './docker-archive.js';
export type { LayoutErrorCode } from './errors.js';
export { LayoutError } from './errors.js';
export { mergeIndexEntries } from './index-merge.js';
export type { LayoutLock, LayoutLockOptions } from './layout-lock.js';
export { acquireLayoutLock, DEFAULT_LOCK_TIMEOUT_MS, LAYOUT_LOCK_FILE } from './layout-lock.js';
export type { LayoutSource } from './layout-source.js';
export { DEFAULT_MAX_ARCHIVE_MEMBERS, DirectorySource, TarSource } from './layout-source.js';
export type { DockerArchiveImage, ReadDockerArchiveOptions } from './read-docker-archive.js';
export { readDockerArchive } from './read-docker-archive.js';
export type { BaseInfo, ReadLayout, ReadLayoutOptions } from './read-layout.js';
export {
  BASE_INFO_FILE,
  DEFAULT_MAX_CONFIG_BYTES,
  DEFAULT_MAX_DOCUMENT_BYTES,
  openLayoutSource,
  readLayout,
} from './read-layout.js';
export type { FileSink } from './sinks.js';
export { layoutMemberHeader, StreamSink, TarSink } from './sinks.js';
export type {
  ValidateImageGraphOptions,
  ValidateLayoutOptions,
  ValidationReport,
} from './validate-layout.js';
export { validateImageGraph, validateLayout } from './validate-layout.js';
export type { WriteLayoutOptions } from './write-layout.js';
export {
  CONTAINERD_NAME_ANNOTATION,
  layoutIndex,
  OCI_LAYOUT_FILE,
  REF_NAME_ANNOTATION,
  SOURCES_FILE,
  writeOciLayout,
} from './write-layout.js';
