import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../../../test/fuzz.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { isDigest, parseDigest, sha256Digest } from './digest.js';
import { parseDocument } from './document-rules.js';
import { ImgError } from './errors.js';
import { walkDocuments } from './image-graph.js';
import { MediaType } from './media-types.js';
import type { Descriptor } from './types.js';

/**
 * Property tests: random and mutated documents must finish, and fail only with our typed errors.
 * CI runs a fixed seed; a longer run: `FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM npx vitest run --project oci-spec property`.
 */
const runs = fuzzParameters(300);

function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ImgError)) throw err;
  }
}

const digest = fc.oneof(
  fc.stringMatching(/^sha256:[a-f0-9]{64}$/),
  fc.string(),
  fc.constantFrom('sha256:../../../etc/passwd', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`),
);
const descriptor = fc.record(
  {
    mediaType: fc.oneof(fc.constantFrom(...Object.values(MediaType)), fc.string()),
    digest,
    size: fc.oneof(fc.nat(), fc.integer(), fc.double()),
    annotations: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
    platform: fc.record({ os: fc.string(), architecture: fc.string() }, { requiredKeys: [] }),
  },
  { requiredKeys: ['mediaType', 'digest'] },
);
const documentLike = fc.record(
  {
    schemaVersion: fc.oneof(fc.constant(2), fc.integer()),
    mediaType: fc.constantFrom(MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, 'x/y'),
    config: fc.oneof(descriptor, fc.anything()),
    layers: fc.oneof(fc.array(descriptor, { maxLength: 5 }), fc.anything()),
    manifests: fc.oneof(fc.array(descriptor, { maxLength: 5 }), fc.anything()),
    subject: descriptor,
  },
  { requiredKeys: [] },
);

describe('properties of digest parsing', () => {
  it('accepts exactly registered algorithms with lowercase hex of their length', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(isDigest(s)).toBe(/^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.test(s));
        if (isDigest(s)) expect(s).not.toMatch(/[/.\\]/);
        else expect(() => parseDigest(s)).toThrow(ImgError);
      }),
      runs,
    );
  });
});

describe('properties of parseDocument', () => {
  it('finishes on random documents and throws only typed errors', () => {
    fc.assert(
      fc.property(
        documentLike,
        fc.constantFrom(MediaType.OciManifest, MediaType.OciIndex, 'x/y'),
        (doc, mt) => {
          const bytes = Buffer.from(JSON.stringify(doc));
          const d: Descriptor = { mediaType: mt, digest: sha256Digest(bytes), size: bytes.length };
          onlyTyped(() => parseDocument(bytes, d, 'doc'));
        },
      ),
      runs,
    );
  });

  it('finishes on byte-mutated valid documents and throws only typed errors', () => {
    const valid = canonicalJsonBytes(
      {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: sha256Digest('c'), size: 1 },
        layers: [{ mediaType: MediaType.OciLayerGzip, digest: sha256Digest('l'), size: 1 }],
      },
      'manifest',
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (edits) => {
          const bytes = Buffer.from(valid);
          for (const [at, value] of edits) bytes[at] = value;
          const d = { mediaType: MediaType.OciManifest, digest: sha256Digest(bytes), size: bytes.length };
          onlyTyped(() => parseDocument(bytes, d, 'doc'));
        },
      ),
      runs,
    );
  });

  it('walks random index graphs within the caps, throwing only typed errors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(30), { maxLength: 6 }), { minLength: 1, maxLength: 30 }),
        (edges) => {
          // Document i lists documents j > i (a DAG with many shared children), leaves are manifests.
          const documents = new Map();
          const descriptors: Descriptor[] = [];
          for (let i = edges.length - 1; i >= 0; i--) {
            const children = edges[i]!.map((j) => descriptors[edges.length - 1 - Math.max(i + 1, j)]).filter(
              (d): d is Descriptor => d !== undefined,
            );
            const doc =
              children.length === 0
                ? {
                    schemaVersion: 2,
                    mediaType: MediaType.OciManifest,
                    config: { mediaType: MediaType.OciConfig, digest: sha256Digest(`c${i}`), size: 1 },
                    layers: [],
                  }
                : { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: children };
            const bytes = canonicalJsonBytes(doc, 'sorted');
            const d = { mediaType: doc.mediaType, digest: sha256Digest(bytes), size: bytes.length };
            documents.set(d.digest, bytes);
            descriptors.push(d);
          }
          const root = descriptors[descriptors.length - 1]!;
          onlyTyped(() => {
            const walked = walkDocuments({ root, documents, blobs: new Map() }, { maxDepth: 64 });
            expect(walked.length).toBeLessThanOrEqual(documents.size);
          });
        },
      ),
      runs,
    );
  });
});
