import type { Descriptor } from '@img/oci-spec';
import { type ContainerdClient, grpc, hasCode, rpcError } from './client.js';

export type ImageRecordChange = 'created' | 'updated' | 'unchanged';

/** Point the image record `name` at `target`: Create, or Update when the name exists. */
export async function upsertImage(
  client: ContainerdClient,
  name: string,
  target: Descriptor,
): Promise<ImageRecordChange> {
  const t = { media_type: target.mediaType, digest: target.digest, size: target.size, annotations: {} };
  try {
    await client.call('images', 'Create', { image: { name, labels: {}, target: t } });
    return 'created';
  } catch (err) {
    if (!hasCode(err, grpc.status.ALREADY_EXISTS)) throw rpcError(err, `create image ${name}`);
  }
  try {
    const current = await client.call<{ image?: { target?: { digest?: string } } }>('images', 'Get', {
      name,
    });
    if (current.image?.target?.digest === target.digest) return 'unchanged';
    await client.call('images', 'Update', { image: { name, target: t }, update_mask: { paths: ['target'] } });
    return 'updated';
  } catch (err) {
    throw rpcError(err, `update image ${name}`);
  }
}

export interface ImageRecord {
  readonly name: string;
  readonly target: { media_type: string; digest: string; size: number };
  readonly labels: Record<string, string>;
}

/** The image record `name`, or undefined. */
export async function getImage(client: ContainerdClient, name: string): Promise<ImageRecord | undefined> {
  try {
    const res = await client.call<{ image?: ImageRecord }>('images', 'Get', { name });
    return res.image ?? undefined;
  } catch (err) {
    if (hasCode(err, grpc.status.NOT_FOUND)) return undefined;
    throw rpcError(err, `get image ${name}`);
  }
}
