import { canonicalJsonBytes, MediaType, sha256Digest } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { blobFromSources, graphOf, type PushInput } from '../../test/helpers/client.js';
import { buildImage, buildIndex, randomLayer } from '../../test/helpers/images.js';
import { checkPushImage } from './check-image.js';

const validatePushImage = (image: PushInput) => checkPushImage(graphOf(image)).blobs;

const invalid = (message: RegExp) =>
  expect.objectContaining({ code: 'IMG_REGISTRY_INVALID_IMAGE', message: expect.stringMatching(message) });

describe('checkPushImage', () => {
  it('accepts a complete image and deduplicates blobs', () => {
    const shared = randomLayer(100);
    const image = buildIndex([buildImage([shared]), buildImage([shared, randomLayer(100)])]);
    const blobs = validatePushImage(image);
    expect(blobs.map((b) => b.descriptor.digest)).toEqual([
      ...new Set(image.blobs.map((b) => b.descriptor.digest)),
    ]);
  });

  it('rejects bytes that do not match their descriptor', () => {
    const image = buildImage([randomLayer(100)]).input;
    const tampered = {
      ...image,
      root: { ...image.root, bytes: Buffer.from(image.root.bytes).fill(32, 0, 1) },
    };
    expect(() => validatePushImage(tampered)).toThrow(invalid(/digest mismatch/));
    const sized = { ...image, root: { ...image.root, descriptor: { ...image.root.descriptor, size: 1 } } };
    expect(() => validatePushImage(sized)).toThrow(invalid(/descriptor size 1/));
  });

  it('rejects a manifest whose blobs are missing or of another size', () => {
    const image = buildImage([randomLayer(100)]);
    expect(() => validatePushImage({ ...image.input, blobs: image.input.blobs.slice(0, 1) })).toThrow(
      invalid(/is not in the image's blobs/),
    );
    const layer = image.layers[0]!.descriptor;
    const wrong = [image.input.blobs[0]!, blobFromSources({ ...layer, size: layer.size + 1 }, [])];
    expect(() => validatePushImage({ ...image.input, blobs: wrong })).toThrow(invalid(/has size/));
  });

  it('rejects an index whose children are not pushed before it, and a media type mismatch', () => {
    const index = buildIndex([buildImage([randomLayer(10)])]);
    expect(() => validatePushImage({ ...index, manifests: [] })).toThrow(
      invalid(/is not among the manifests/),
    );
    const bytes = canonicalJsonBytes(
      { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] },
      'index',
    );
    const root = {
      descriptor: {
        mediaType: MediaType.DockerManifestList,
        digest: sha256Digest(bytes),
        size: bytes.length,
      },
      bytes,
    };
    expect(() => validatePushImage({ root, blobs: [] })).toThrow(
      invalid(/document says application\/vnd.oci.image.index/),
    );
  });
});
