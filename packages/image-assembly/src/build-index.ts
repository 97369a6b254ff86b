import {
  assertValid,
  canonicalJsonBytes,
  type Descriptor,
  formatPlatform,
  type Index,
  indexViolations,
  MediaType,
  sha256Digest,
} from '@img/oci-spec';
import { subjectDescriptor } from './build-image.js';
import { AssemblyError } from './errors.js';

export interface BuildIndexOptions {
  readonly annotations?: Readonly<Record<string, string>>;
  /** The index's `subject`: the image or index this one refers to (referrers API). */
  readonly subject?: Descriptor;
}

export interface BuiltIndex {
  readonly index: Index;
  readonly indexBytes: Buffer;
  readonly descriptor: Descriptor;
}

/**
 * A multi-platform index from manifest descriptors. Every entry needs a platform, and no two
 * entries may claim the same one (a runtime would pick the first silently).
 */
export function buildIndex(manifests: readonly Descriptor[], options: BuildIndexOptions = {}): BuiltIndex {
  const seen = new Map<string, number>();
  manifests.forEach((d, i) => {
    if (!d.platform) {
      throw new AssemblyError(
        'IMG_ASSEMBLY_INVALID_OPTION',
        `manifests[${i}] (${d.digest}): descriptor has no platform`,
      );
    }
    const key = formatPlatform(d.platform);
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new AssemblyError(
        'IMG_ASSEMBLY_DUPLICATE_PLATFORM',
        `manifests[${i}]: platform ${key} is already used by manifests[${prev}]`,
      );
    }
    seen.set(key, i);
  });
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: manifests.map((d) => ({
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      ...(d.annotations && Object.keys(d.annotations).length > 0 ? { annotations: d.annotations } : {}),
      platform: d.platform!,
    })),
    ...(options.subject ? { subject: subjectDescriptor(options.subject) } : {}),
    ...(options.annotations && Object.keys(options.annotations).length > 0
      ? { annotations: options.annotations }
      : {}),
  };
  assertValid(indexViolations(index), 'image index');
  const indexBytes = canonicalJsonBytes(index, 'index');
  return {
    index,
    indexBytes,
    descriptor: { mediaType: MediaType.OciIndex, digest: sha256Digest(indexBytes), size: indexBytes.length },
  };
}
