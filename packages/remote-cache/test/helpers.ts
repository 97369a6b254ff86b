import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { sha256Digest } from '@img/oci-spec';
import { afterEach, beforeEach } from 'vitest';
import { type BlobRef, RPC_CHANNEL } from '../src/index.js';

export interface TestBlob extends BlobRef {
  readonly data: Buffer;
}

export function randomBlob(size: number): TestBlob {
  const data = randomBytes(size);
  return { data, digest: sha256Digest(data), size };
}

export interface RpcEvent {
  readonly endpoint: string;
  readonly method: string;
  readonly attempt?: number;
  readonly resource?: string;
  readonly offset?: number;
}

/** Records the RPC attempts the client publishes on RPC_CHANNEL during each test. */
export function recordRpcs(): { events: RpcEvent[]; methods: () => string[] } {
  const events: RpcEvent[] = [];
  const listener = (message: unknown) => events.push(message as RpcEvent);
  beforeEach(() => {
    events.length = 0;
    diagnostics.subscribe(RPC_CHANNEL, listener);
  });
  afterEach(() => {
    diagnostics.unsubscribe(RPC_CHANNEL, listener);
  });
  return { events, methods: () => events.map((e) => e.method) };
}
