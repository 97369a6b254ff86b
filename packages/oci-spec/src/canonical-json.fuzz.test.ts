// Property tests for canonical JSON: a round trip keeps the value, the bytes do not depend on key
// insertion order, keys are in UTF-8 byte order (or the image-spec field order), and the output is
// Go's HTML-safe encoding.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// A relative import, not @img/test-utils: that package depends on this one.
import { fuzzParameters, fuzzTimeout } from '../../../test/fuzz.js';
import { canonicalJson, Shapes } from './canonical-json.js';

/** The same value with every object's keys inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).reverse()) {
    // defineProperty: a "__proto__" key stays a key.
    Object.defineProperty(out, k, {
      value: reversedKeys((value as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Calls `visit` with the keys of every object in `value`. */
function visitObjects(value: unknown, visit: (keys: string[]) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) visitObjects(v, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(Object.keys(value));
    for (const v of Object.values(value)) visitObjects(v, visit);
  }
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const json = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('canonicalJson (property)', () => {
  it(
    'round-trips, ignores insertion order, sorts keys by UTF-8 bytes, is idempotent and HTML-safe',
    () => {
      fc.assert(
        fc.property(json, (value) => {
          const text = canonicalJson(value);
          expect(JSON.parse(text)).toEqual(value);
          expect(canonicalJson(reversedKeys(value))).toBe(text);
          expect(canonicalJson(JSON.parse(text))).toBe(text);
          expect(text).not.toMatch(/[<>&\u2028\u2029]/);
          // Keys as written (JSON.parse keeps string keys in text order, integer-like keys aside).
          visitObjects(JSON.parse(text), (keys) => {
            const textual = keys.filter((k) => !/^(0|[1-9]\d*)$/.test(k));
            expect(textual).toEqual([...textual].sort(byteOrder));
          });
        }),
        fuzzParameters(500),
      );
    },
    fuzzTimeout(),
  );

  it(
    'manifests: known fields first in image-spec order, then unknown ones sorted; same bytes every time',
    () => {
      const descriptor = fc.record(
        {
          mediaType: fc.string(),
          digest: fc.string(),
          size: fc.nat(),
          annotations: fc.dictionary(fc.string(), fc.string()),
          zExtra: fc.string(),
          aExtra: fc.nat(),
        },
        { requiredKeys: ['mediaType', 'digest', 'size'] },
      );
      const manifest = fc.record(
        {
          schemaVersion: fc.constant(2),
          mediaType: fc.string(),
          config: descriptor,
          layers: fc.array(descriptor, { maxLength: 4 }),
          annotations: fc.dictionary(fc.string(), fc.string()),
          unknownField: fc.string(),
        },
        { requiredKeys: ['schemaVersion', 'config', 'layers'] },
      );
      fc.assert(
        fc.property(manifest, (m) => {
          const text = canonicalJson(m, 'manifest');
          expect(canonicalJson(reversedKeys(m), 'manifest')).toBe(text);
          const parsed = JSON.parse(text) as Record<string, unknown>;
          const known = Shapes.manifest.fields as readonly string[];
          const keys = Object.keys(parsed);
          const knownKeys = keys.filter((k) => known.includes(k));
          expect(knownKeys).toEqual(known.filter((k) => k in parsed));
          expect(keys.slice(0, knownKeys.length)).toEqual(knownKeys);
          const d = Object.keys((parsed.config ?? {}) as object);
          const descFields = ['mediaType', 'digest', 'size', 'annotations'].filter((f) => d.includes(f));
          expect(d.slice(0, descFields.length)).toEqual(descFields);
        }),
        fuzzParameters(500),
      );
    },
    fuzzTimeout(),
  );
});
