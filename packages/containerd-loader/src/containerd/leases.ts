import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type ContainerdClient, rpcError } from './client.js';

/** containerd's label that lets its garbage collector drop a lease a killed client never deleted. */
export const LEASE_EXPIRE_LABEL = 'containerd.io/gc.expire';
/** Labels naming the process that owns a load's lease, so a later load can tell a dead owner's lease. */
export const LEASE_HOST_LABEL = 'img.load/host';
export const LEASE_PID_LABEL = 'img.load/pid';
/** Prefix of our lease ids. */
const LEASE_PREFIX = 'img-load-';
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
  const id = `${LEASE_PREFIX}${Date.now()}-${randomBytes(4).toString('hex')}`;
  const expire = new Date(Date.now() + expirationMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const labels = {
    [LEASE_EXPIRE_LABEL]: expire,
    [LEASE_HOST_LABEL]: hostname(),
    [LEASE_PID_LABEL]: String(process.pid),
  };
  try {
    await client.call('leases', 'Create', { id, labels });
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

/** Delete a lease; with `sync`, containerd collects what only it held (a partial ingest) before answering. */
export async function deleteLease(client: ContainerdClient, lease: string, sync = false): Promise<void> {
  try {
    await client.call('leases', 'Delete', { id: lease, sync });
  } catch (err) {
    throw rpcError(err, `delete lease ${lease}`);
  }
}

interface LeaseRecord {
  readonly id: string;
  readonly labels?: Record<string, string>;
}

/**
 * Delete the leases that killed loads on this host left behind: owner process gone, and no ingest of
 * theirs still in progress (a partial blob stays resumable until its lease expires). Returns the ids.
 */
export async function deleteStaleLeases(client: ContainerdClient): Promise<string[]> {
  const host = hostname();
  try {
    const { leases = [] } = await client.call<{ leases?: LeaseRecord[] }>('leases', 'List', {
      filters: [`labels."${LEASE_HOST_LABEL}"==${JSON.stringify(host)}`],
    });
    const { statuses = [] } = await client.call<{ statuses?: Array<{ ref: string }> }>(
      'content',
      'ListStatuses',
      {},
    );
    const activeIngests = new Set(statuses.map((s) => s.ref));
    const deleted: string[] = [];
    for (const lease of leases) {
      const pid = Number(lease.labels?.[LEASE_PID_LABEL]);
      if (!lease.id.startsWith(LEASE_PREFIX) || !Number.isInteger(pid) || isAlive(pid)) continue;
      const { resources = [] } = await client.call<{ resources?: Array<{ id: string; type: string }> }>(
        'leases',
        'ListResources',
        { id: lease.id },
      );
      if (resources.some((r) => r.type === 'ingests' && activeIngests.has(r.id))) continue;
      await client.call('leases', 'Delete', { id: lease.id, sync: false });
      deleted.push(lease.id);
    }
    return deleted;
  } catch (err) {
    throw rpcError(err, 'clean up leases of killed loads');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
