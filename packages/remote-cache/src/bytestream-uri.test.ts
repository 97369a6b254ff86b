import { describe, expect, it } from 'vitest';
import { formatBytestreamUri, parseBytestreamUri } from './bytestream-uri.js';

const HASH = 'a'.repeat(64);

describe('parseBytestreamUri', () => {
  it('splits host, instance (with slashes), digest and size', () => {
    expect(parseBytestreamUri(`bytestream://cache.example:8980/blobs/${HASH}/42`)).toEqual({
      authority: 'cache.example:8980',
      instanceName: '',
      digest: `sha256:${HASH}`,
      size: 42,
    });
    const nested = parseBytestreamUri(
      `bytestream://127.0.0.1:1/projects/x/instances/default/blobs/${HASH}/0`,
    );
    expect(nested.instanceName).toBe('projects/x/instances/default');
    expect(nested.size).toBe(0);
    expect(formatBytestreamUri(nested)).toBe(
      `bytestream://127.0.0.1:1/projects/x/instances/default/blobs/${HASH}/0`,
    );
  });

  it.each([
    [`http://h/blobs/${HASH}/1`, /not of the form/],
    [`bytestream://h/things/${HASH}/1`, /no blobs\/ segment/],
    [`bytestream://h/blobs/blake3/${HASH}/1`, /digest function blake3 is not supported/],
    [`bytestream://h/blobs/${HASH.toUpperCase()}/1`, /not a lower-case sha256/],
    [`bytestream://h/blobs/${HASH}/-1`, /is not a size/],
    [`bytestream://h/blobs/${HASH}/01`, /is not a size/],
    [`bytestream://h/blobs/${HASH}/99999999999999999`, /is not a size/],
    [`bytestream://h/../blobs/${HASH}/1`, /segment in the instance name/],
    [`bytestream://u:p@h/blobs/${HASH}/1`, /credentials/],
    [`bytestream://h/blobs/${HASH}`, /expected blobs\/HASH\/SIZE/],
  ])('refuses %s', (uri, message) => {
    expect(() => parseBytestreamUri(uri)).toThrow(
      expect.objectContaining({
        code: 'IMG_REMOTE_CACHE_INVALID_URI',
        message: expect.stringMatching(message),
      }),
    );
  });
});
