import { ciRequires, startRegistry, type TestRegistry } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/index.js';
import { buildImage, randomLayer } from '../helpers/images.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import diagnosticsChannel from 'node:diagnostics_channel';

const needs = ciRequires('docker-registry');

describe.skipIf(needs.skip)('explore', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  it('resumes', async () => {
    let n = 0;
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: registry.port }, (req) => {
      if (req.method === 'PATCH' && n++ === 0) return { kind: 'reset-request', afterBytes: 1_000_000 };
      return { kind: 'pass' };
    });
    diagnosticsChannel.subscribe('img:registry:request', (m) => console.log('REQ', m));
    diagnosticsChannel.subscribe('img:registry:retry', (m) => console.log('RETRY', m));
    const client = new RegistryClient({ retry: { minDelayMs: 5 } });
    const image = buildImage([randomLayer(3_000_000)]);
    const result = await client.pushImage(`${proxy.url}/smoke/app:v1`, image.input);
    console.log(result.summary);
    await client.close();
    await proxy.stop();
    console.log(
      (await registry.requests()).map((r) => `${r.method} ${r.uri.slice(0, 80)} ${r.status}`).join('\n'),
    );
    console.log(
      (await registry.log())
        .split('\n')
        .filter((l) => /level=(error|warn)/.test(l))
        .join('\n'),
    );
  });
});
