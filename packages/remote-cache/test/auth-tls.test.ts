import { createHmac } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { ciRequires, run, startBuildGrid, type TestBuildGrid, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRemoteCache } from '../src/index.js';
import { randomBlob, recordRpcs } from './helpers.js';

const needs = ciRequires('bgd', 'openssl');
const FAST_RETRY = { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 };
const dir = useTempDir('remote-cache-auth-');

function hs256Jwt(secret: string, claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe.skipIf(needs.skip)('credential helper headers against BuildGrid with JWT auth', () => {
  const secret = 'remote-cache-test-secret-0123456789';
  let bg: TestBuildGrid;
  const rpcs = recordRpcs();
  beforeAll(async () => {
    bg = await startBuildGrid({ jwtSecret: secret });
  });
  afterAll(() => bg?.stop());

  it('without credentials the server refuses the first call, and it is not retried', async () => {
    const cache = connectRemoteCache(bg.endpoint, { retry: FAST_RETRY });
    try {
      await expect(cache.capabilities()).rejects.toMatchObject({
        code: 'IMG_REMOTE_CACHE_RPC',
        grpcCode: 16,
        message: expect.stringContaining(`asking capabilities at ${bg.endpoint}: UNAUTHENTICATED`),
      });
      expect(rpcs.methods()).toEqual(['capabilities.GetCapabilities']);
    } finally {
      cache.close();
    }
  });

  it("sends the helper's headers on every call, asking once per service URI as Bazel does", async () => {
    const token = hs256Jwt(secret, { sub: 'img-test', exp: Math.floor(Date.now() / 1000) + 3600 });
    const helper = dir.join('helper.sh');
    const log = dir.join('helper.log');
    await writeFile(
      helper,
      `#!/bin/sh\nread -r input\necho "$1 $input" >> '${log}'\necho '{"headers":{"Authorization":["Bearer ${token}"]}}'\n`,
    );
    await chmod(helper, 0o755);
    const cache = connectRemoteCache(bg.endpoint, { credentialHelper: helper, retry: FAST_RETRY });
    try {
      const small = randomBlob(100);
      const large = randomBlob(5 * 1024 * 1024);
      for (const b of [small, large]) await cache.writeBlob(b, b.data);
      expect(await cache.findMissingBlobs([small, large])).toEqual([]);
      expect((await cache.readBlob(large)).equals(large.data)).toBe(true);
      const authority = bg.endpoint.slice('grpc://'.length);
      const asked = (await readFile(log, 'utf8')).trim().split('\n').sort();
      expect(asked).toEqual(
        [
          'build.bazel.remote.execution.v2.Capabilities',
          'build.bazel.remote.execution.v2.ContentAddressableStorage',
          'google.bytestream.ByteStream',
        ].map((service) => `get {"uri":"https://${authority}/${service}"}`),
      );
    } finally {
      cache.close();
    }
  });

  it('static headers work the same way (Bazel --remote_header)', async () => {
    const token = hs256Jwt(secret, { exp: Math.floor(Date.now() / 1000) + 60 });
    const cache = connectRemoteCache(bg.endpoint, { headers: { Authorization: `Bearer ${token}` } });
    try {
      expect((await cache.capabilities()).digestFunctions).toContain('SHA256');
    } finally {
      cache.close();
    }
  });
});

describe.skipIf(needs.skip)('grpcs:// and unix: endpoints', () => {
  it('grpcs:// trusts a CA given as caFile, and refuses the server without it', async () => {
    const openssl = needs.paths.openssl!;
    const ca = dir.join('ca');
    await run(openssl, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=img test CA',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
    ]);
    await run(openssl, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      dir.join('server.key'),
      '-out',
      dir.join('server.csr'),
    ]);
    await writeFile(dir.join('ext.cnf'), 'subjectAltName=DNS:localhost\n');
    await run(openssl, [
      'x509',
      '-req',
      '-in',
      dir.join('server.csr'),
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      dir.join('ext.cnf'),
      '-out',
      dir.join('server.crt'),
    ]);
    const bg = await startBuildGrid({
      tls: {
        key: await readFile(dir.join('server.key'), 'utf8'),
        cert: await readFile(dir.join('server.crt'), 'utf8'),
      },
    });
    try {
      expect(bg.endpoint).toMatch(/^grpcs:\/\/localhost:\d+$/);
      const trusted = connectRemoteCache(bg.endpoint, { caFile: `${ca}.crt` });
      const b = randomBlob(5 * 1024 * 1024);
      await trusted.writeBlob(b, b.data);
      expect((await trusted.readBlob(b)).equals(b.data)).toBe(true);
      trusted.close();
      const untrusted = connectRemoteCache(bg.endpoint, { retry: { attempts: 1 } });
      await expect(untrusted.capabilities()).rejects.toMatchObject({
        code: 'IMG_REMOTE_CACHE_RPC',
        grpcCode: 14,
      });
      untrusted.close();
    } finally {
      await bg.stop();
    }
  });

  it('unix: talks to a server on a unix socket', async () => {
    const bg = await startBuildGrid({ unixSocket: true, instanceNames: [''] });
    try {
      const cache = connectRemoteCache(bg.endpoint);
      const b = randomBlob(5 * 1024 * 1024);
      await cache.writeBlob(b, b.data);
      expect((await cache.readBlob(b)).equals(b.data)).toBe(true);
      cache.close();
    } finally {
      await bg.stop();
    }
  });
});
