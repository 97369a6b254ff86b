import { describe, expect, it } from 'vitest';
import { parseBesPushRequest } from '../src/deploy/bes-request.js';

// What the BES listener accepts as a push request read from the remote cache.
const root = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 2,
};
const base = {
  version: 1,
  command: 'push',
  target: '//a:push',
  strategy: 'bes',
  registry: 'r.io',
  repository: 'a',
  tags: ['v1'],
  root,
};
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseBesPushRequest', () => {
  it('gives destination, tags, root and the registries of blobs (files ignored)', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const parsed = parseBesPushRequest(
      bytes({ ...base, blobs: { [digest]: [{ file: 'x' }, { registry: 'base.io', repository: 'b' }] } }),
      '//a:push',
    );
    expect(parsed).toMatchObject({ registry: 'r.io', repository: 'a', tags: ['v1'], root });
    expect([...parsed.locations!]).toEqual([[digest, [{ registry: 'base.io', repository: 'b' }]]]);
  });

  it('refuses what is not a stamped bes push request, naming it', () => {
    const where = '//a:push (push request x)';
    expect(() => parseBesPushRequest(bytes('{'), where)).toThrow(/^\/\/a:push \(push request x\): not JSON/);
    expect(() => parseBesPushRequest(bytes({ ...base, strategy: 'eager', layout: 'l' }), where)).toThrow(
      /a eager push request, not a bes push/,
    );
    expect(() => parseBesPushRequest(bytes({ ...base, tags: ['{{.X}}'] }), where)).toThrow(/is a template/);
    expect(() => parseBesPushRequest(bytes({ ...base, tag_file: 't' }), where)).toThrow(/tag_file/);
    expect(() =>
      parseBesPushRequest(bytes({ ...base, root: { ...root, digest: 'sha256:x' } }), where),
    ).toThrow(/root\.digest/);
  });
});
