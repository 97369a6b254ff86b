import type { TestContainerd } from '@img/test-utils';

/** Digests in the namespace's content store (`ctr content ls -q`). */
export async function contentDigests(c: TestContainerd, namespace: string): Promise<Set<string>> {
  const out = await c.ctr(['content', 'ls', '-q'], { namespace });
  return new Set(out.stdout.split('\n').filter((l) => l.startsWith('sha256:')));
}

/** Active ingests (`ctr content active`): one line per ref, header dropped. */
export async function activeIngests(c: TestContainerd, namespace: string): Promise<string[]> {
  const out = await c.ctr(['content', 'active'], { namespace });
  return out.stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
}

/** `ctr images check` line for `name`. */
export async function imageCheck(c: TestContainerd, namespace: string, name: string): Promise<string> {
  const out = await c.ctr(['images', 'check', `name==${name}`], { namespace });
  return out.stdout.split('\n').find((l) => l.startsWith(name)) ?? '';
}

/** Run containerd's garbage collector now: deleting a lease with --sync waits for a collection. */
export async function collectGarbage(c: TestContainerd, namespace: string): Promise<void> {
  const id = (await c.ctr(['leases', 'create'], { namespace })).stdout.trim().split(/\s+/)[0]!;
  await c.ctr(['leases', 'delete', '--sync', id], { namespace });
}

/** Keys of the snapshots of the default snapshotter (`ctr snapshots ls`). */
export async function snapshotKeys(c: TestContainerd, namespace: string): Promise<string[]> {
  const out = await c.ctr(['snapshots', 'ls'], { namespace });
  return out.stdout
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0]!)
    .filter((k) => k);
}
