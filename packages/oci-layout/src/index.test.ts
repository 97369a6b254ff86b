import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: removing or renaming a public export must be a deliberate change.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'BASE_INFO_FILE',
      'CONTAINERD_NAME_ANNOTATION',
      'DEFAULT_LOCK_TIMEOUT_MS',
      'DEFAULT_MAX_ARCHIVE_MEMBERS',
      'DEFAULT_MAX_CONFIG_BYTES',
      'DEFAULT_MAX_DOCUMENT_BYTES',
      'DirectorySink',
      'DirectorySource',
      'LAYOUT_LOCK_FILE',
      'LayoutError',
      'OCI_LAYOUT_FILE',
      'REF_NAME_ANNOTATION',
      'SOURCES_FILE',
      'StreamSink',
      'TarSink',
      'TarSource',
      'acquireLayoutLock',
      'blobPath',
      'checkLayoutDirectory',
      'dockerArchiveImage',
      'fileBlobSource',
      'layoutIndex',
      'layoutMemberHeader',
      'mergeIndexEntries',
      'openLayoutSource',
      'openRegularFile',
      'readLayout',
      'readRegularFile',
      'regularFileSize',
      'regularFileStream',
      'validateLayout',
      'writeDockerArchive',
      'writeOciLayout',
    ]);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.BaseInfo,
  api.BlobLocation,
  api.BlobSource,
  api.DirectorySinkOptions,
  api.FileSink,
  api.ImageEntry,
  api.ImageGraph,
  api.LayoutErrorCode,
  api.LayoutLock,
  api.LayoutLockOptions,
  api.LayoutSource,
  api.ReadLayout,
  api.ReadLayoutOptions,
  api.ValidateLayoutOptions,
  api.ValidationReport,
  api.WriteDockerArchiveOptions,
  api.WriteLayoutOptions,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
