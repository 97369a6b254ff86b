import { ciRequires, startRegistry, type TestRegistry } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/index.js';
import { buildImage, randomLayer } from '../helpers/images.js';

const needs = ciRequires('docker-registry');

describe.skipIf(needs.skip)('smoke', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  it('pushes and pulls', async () => {
    const client = new RegistryClient({ retry: { minDelayMs: 5 } });
    const image = buildImage([randomLayer(100_000), randomLayer(5000)]);
    const result = await client.pushImage(`${registry.url}/smoke/app:v1`, image.input);
    console.log(result.summary);
    const pulled = await client.pullImage(`${registry.url}/smoke/app:v1`);
    expect(Buffer.from(pulled.root.bytes)).toEqual(image.input.root.bytes);
    const again = await client.pushImage(`${registry.url}/smoke/app:v1`, image.input);
    console.log(again.summary);
    await client.close();
    console.log((await registry.requests()).map((r) => `${r.method} ${r.uri} ${r.status}`).join('\n'));
  });
});
