import { randomBytes } from 'node:crypto';
import { type ContainerdClient, rpcError } from './client.js';

/** containerd's label that lets its garbage collector drop a lease a killed client never deleted. */
export const LEASE_EXPIRE_LABEL = 'containerd.io/gc.expire';
/** Lifetime of a load's lease: as containerd's own client, 24 hours. */
export const DEFAULT_LEASE_EXPIRATION_MS = 24 * 60 * 60 * 1000;

/**
 * Create a lease that protects blobs and ingests while a load runs: until the image record points
 * at them, nothing references them, and the garbage collector would remove them. A client killed
 * mid-load leaves the lease behind; containerd drops it at its expiry.
 */
export async function createLease(
  client: ContainerdClient,
  expirationMs = DEFAULT_LEASE_EXPIRATION_MS,
): Promise<string> {
  const id = `img-load-${Date.now()}-${randomBytes(4).toString('hex')}`;
  const expire = new Date(Date.now() + expirationMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  try {
    await client.call('leases', 'Create', { id, labels: { [LEASE_EXPIRE_LABEL]: expire } });
  } catch (err) {
    throw rpcError(err, `create lease in namespace ${client.namespace}`);
  }
  return id;
}

/** Put a blob that is already present under the lease, so the collector cannot remove it before the image refers to it. */
export async function leaseContent(client: ContainerdClient, lease: string, digest: string): Promise<void> {
  try {
    await client.call('leases', 'AddResource', { id: lease, resource: { id: digest, type: 'content' } });
  } catch (err) {
    throw rpcError(err, `add ${digest} to lease ${lease}`);
  }
}

export async function deleteLease(client: ContainerdClient, lease: string): Promise<void> {
  try {
    await client.call('leases', 'Delete', { id: lease, sync: false });
  } catch (err) {
    throw rpcError(err, `delete lease ${lease}`);
  }
}
