import { type ImageContent, reachableDescriptors } from '@img/oci-layout';
import { isIndex, isManifest } from '@img/oci-spec';
import { blobFromBytes, type PushBlob, type PushImageInput } from '@img/registry-client';

/**
 * What a push needs from an image: the root and child manifests as exact bytes (children before
 * parents), configs from memory, layers from their handles, and layers absent locally (shallow base
 * layers) by their sources, so the registry client mounts or streams them.
 */
export function pushInputFromContent(content: ImageContent): PushImageInput {
  const { documents, layers } = reachableDescriptors(content);
  const bytesOf = (digest: string) => content.documents.get(digest)!;
  const manifests = documents
    .filter((d) => (isIndex(d.mediaType) || isManifest(d.mediaType)) && d.digest !== content.root.digest)
    .map((d) => ({
      descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size },
      bytes: bytesOf(d.digest),
    }));
  const blobs: PushBlob[] = documents
    .filter((d) => !isIndex(d.mediaType) && !isManifest(d.mediaType))
    .map((d) => blobFromBytes(d, bytesOf(d.digest)));
  for (const layer of layers) {
    const handle = content.blobs.get(layer.digest);
    const sources = content.sources?.get(layer.digest);
    blobs.push({
      descriptor: layer,
      ...(handle ? { open: () => handle.open() } : {}),
      ...(sources?.length ? { sources } : {}),
    });
  }
  const root = content.root;
  return {
    root: {
      descriptor: { mediaType: root.mediaType, digest: root.digest, size: root.size },
      bytes: bytesOf(root.digest),
    },
    manifests,
    blobs,
  };
}
