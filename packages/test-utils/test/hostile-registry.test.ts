import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type HostileRegistry, startHostileRegistry } from '../src/index.js';

describe('startHostileRegistry', () => {
  let registry: HostileRegistry;
  afterEach(async () => {
    await registry?.stop();
  });

  it('serves what it stores, with Range, and logs every request', async () => {
    registry = await startHostileRegistry();
    const bytes = Buffer.from('hello hostile world');
    const digest = registry.store.putBlob(bytes);
    expect(digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    const whole = await fetch(`${registry.origin}/v2/app/blobs/${digest}`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(`${registry.origin}/v2/app/blobs/${digest}`, { headers: { range: 'bytes=6-' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 6-${bytes.length - 1}/${bytes.length}`);
    expect(await part.text()).toBe('hostile world');
    expect(registry.requests.map((r) => [r.method, r.headers.range])).toEqual([
      ['GET', undefined],
      ['GET', 'bytes=6-'],
    ]);
  });

  it('takes an upload through POST, PATCH and PUT ?digest=, refusing a wrong digest', async () => {
    registry = await startHostileRegistry();
    const post = await fetch(`${registry.origin}/v2/app/blobs/uploads/`, { method: 'POST' });
    expect(post.status).toBe(202);
    const location = new URL(post.headers.get('location')!, registry.origin);
    await fetch(location, { method: 'PATCH', body: 'abc' });
    const wrong = await fetch(`${location}?digest=sha256:${'0'.repeat(64)}`, { method: 'PUT' });
    expect(wrong.status).toBe(400);
    const digest = `sha256:${createHash('sha256').update('abc').digest('hex')}`;
    const put = await fetch(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    expect(registry.store.blobs.get(digest)?.toString()).toBe('abc');
  });

  it('applies the fault plan and records which fault each request got', async () => {
    registry = await startHostileRegistry({
      faults: (req) => (req.path === '/v2/' ? { kind: 'status', status: 503, retryAfter: '7' } : undefined),
    });
    const res = await fetch(`${registry.origin}/v2/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });
    expect(registry.requests[0]?.fault).toBe('status');
  });

  it('challenges for credentials and grants tokens to anyone at /token', async () => {
    registry = await startHostileRegistry({ auth: { scheme: 'bearer', username: 'u', password: 'p' } });
    const denied = await fetch(`${registry.origin}/v2/`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe(
      `Bearer realm="${registry.origin}/token",service="hostile"`,
    );
    const { token } = (await (await fetch(`${registry.origin}/token`)).json()) as { token: string };
    const ok = await fetch(`${registry.origin}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});
