import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { canonicalJsonBytes, type Descriptor, type Digest, digestHex, MediaType } from '@img/oci-spec';
import type { PushInput as PushImageInput } from './client.js';

/** Write an image to an OCI layout (for skopeo to push, independently of our client). */
export async function writeLayout(dir: string, image: PushImageInput, tag: string): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (digest: Digest, bytes: Uint8Array) =>
    writeFile(join(dir, 'blobs', 'sha256', digestHex(digest)), bytes);
  for (const blob of image.blobs) {
    const stream = await blob.open!();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    await put(blob.descriptor.digest, Buffer.concat(chunks));
  }
  for (const doc of [...(image.manifests ?? []), image.root]) await put(doc.descriptor.digest, doc.bytes);
  const rootDescriptor: Descriptor = {
    ...image.root.descriptor,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  };
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [rootDescriptor] };
  await writeFile(join(dir, 'index.json'), canonicalJsonBytes(index, 'index'));
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return `oci:${dir}:${tag}`;
}

/** A blob of an OCI layout. */
export function readLayoutBlob(dir: string, digest: Digest): Promise<Buffer> {
  return readFile(join(dir, 'blobs', 'sha256', digestHex(digest)));
}

export async function readLayoutIndex(dir: string): Promise<{ manifests: Descriptor[] }> {
  return JSON.parse(
    await text(await import('node:fs').then((fs) => fs.createReadStream(join(dir, 'index.json')))),
  );
}
