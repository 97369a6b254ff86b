import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { startRegistryServer } from '../src/index.js';

// The server's signal: aborting it stops the registry (as close() does); an aborted start rejects.
const tmp = useTempDir('cas-registry-abort-');

describe('startRegistryServer with a signal', () => {
  it('serves until the signal aborts, then refuses connections', async () => {
    const controller = new AbortController();
    const server = await startRegistryServer({
      storage: tmp.join('serve'),
      port: 0,
      signal: controller.signal,
    });
    expect((await fetch(`http://${server.address}/v2/`)).status).toBe(200);
    controller.abort();
    await expect
      .poll(async () =>
        fetch(`http://${server.address}/v2/`).then(
          () => 'up',
          () => 'down',
        ),
      )
      .toBe('down');
  });

  it('an aborted start rejects with the reason and listens on nothing', async () => {
    const reason = new Error('shutting down');
    await expect(
      startRegistryServer({ storage: tmp.join('never'), port: 0, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });
});
