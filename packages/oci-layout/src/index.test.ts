import { describe, expect, it } from 'vitest';
import * as api from './index.js';

// A tripwire: removing or renaming a public export must be a deliberate change.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'BASE_INFO_FILE',
        'DEFAULT_LOCK_TIMEOUT_MS',
        'LAYOUT_LOCK_FILE',
        'acquireLayoutLock',
        'checkLayoutDirectory',
        'mergeIndexEntries',
        'CONTAINERD_NAME_ANNOTATION',
        'DEFAULT_MAX_ARCHIVE_MEMBERS',
        'DEFAULT_MAX_CONFIG_BYTES',
        'DEFAULT_MAX_DOCUMENT_BYTES',
        'DirectorySink',
        'DirectorySource',
        'LayoutError',
        'OCI_LAYOUT_FILE',
        'REF_NAME_ANNOTATION',
        'SOURCES_FILE',
        'StreamSink',
        'TarSink',
        'TarSource',
        'blobPath',
        'dockerArchiveImage',
        'fileBlobSource',
        'layoutIndex',
        'layoutMemberHeader',
        'openLayoutSource',
        'openRegularFile',
        'readDockerArchive',
        'readLayout',
        'readRegularFile',
        'regularFileSize',
        'regularFileStream',
        'validateImageGraph',
        'validateLayout',
        'writeDockerArchive',
        'writeOciLayout',
      ].sort(),
    );
  });
});
