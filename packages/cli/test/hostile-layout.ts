import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJsonBytes, type Descriptor, type Digest, MediaType, sha256Digest } from '@img/oci-spec';
import { type TinyOciLayout, writeTinyOciLayout } from '@img/test-utils';

/**
 * Hand-made hostile layouts for tests: documents are written as given (no validation), so a test can
 * plant digests that leave blobs/, documents that lie about themselves, or graphs that explode.
 */
export class HostileLayout {
  private constructor(
    readonly dir: string,
    readonly tiny: TinyOciLayout,
  ) {}

  static async create(dir: string): Promise<HostileLayout> {
    await mkdir(dir, { recursive: true });
    return new HostileLayout(dir, await writeTinyOciLayout(dir));
  }

  /** Write `value` (JSON, compact) or bytes as a blob; its descriptor with `mediaType`. */
  async blob(value: unknown, mediaType: string): Promise<Descriptor> {
    const bytes = value instanceof Uint8Array ? value : Buffer.from(JSON.stringify(value));
    const digest = sha256Digest(bytes);
    await writeFile(join(this.dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** Make `entry` the one image of index.json (written as given). */
  async setRoot(entry: object): Promise<void> {
    await writeFile(
      join(this.dir, 'index.json'),
      canonicalJsonBytes({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [entry] }, 'sorted'),
    );
  }

  /** The tiny image's manifest with its one layer replaced by `layer`. */
  manifestWithLayer(layer: object): Record<string, unknown> {
    return {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: this.tiny.config,
      layers: [layer],
    };
  }

  /**
   * `levels` nested indexes above the tiny image, each listing the level below twice: 2^levels paths
   * to one manifest, a few hundred bytes per level. Returns the top index's descriptor.
   */
  async doublingIndex(levels: number): Promise<Descriptor> {
    let child: Descriptor = this.tiny.manifest;
    for (let i = 0; i < levels; i++) {
      child = await this.blob(
        { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child, child] },
        MediaType.OciIndex,
      );
    }
    return child;
  }
}

/** A digest-shaped string that walks out of blobs/sha256/ (`sha256:../../../name`). */
export function escapingDigest(name: string): Digest {
  return `sha256:../../../${name}` as Digest;
}
