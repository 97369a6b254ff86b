import type { BaseImage } from '@img/image-assembly';
import type { BaseInfo } from '@img/oci-layout';
import { formatPlatform, type ImageGraph, type Platform } from '@img/oci-spec';
import { formatReference, type RegistryClient } from '@img/registry-client';
import type { Io } from '../io.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';
import { BaseLock, type BaseLockOptions, type ResolvedBase } from './base-lock.js';
import { baseImageOf } from './load-base.js';

/** A base pulled from a registry: its image for one platform, and the graph (layer locations) a build takes over. */
export interface RegistryBase {
  readonly image: BaseImage;
  readonly graph: ImageGraph;
}

export interface RegistryBasesOptions extends BaseLockOptions {
  readonly flags?: RegistryFlags;
}

/**
 * The registry bases of one spec build: each reference resolved once through the spec's lock
 * (BaseLock), each digest pulled shallow once per platform (manifests and configs; layers stay in
 * the registry, located for push to mount and load to fetch).
 */
export class RegistryBases {
  readonly #lock: BaseLock;
  readonly #client: RegistryClient;
  readonly #io: Io | undefined;
  readonly #resolved = new Map<string, Promise<ResolvedBase>>();
  readonly #pulled = new Map<string, Promise<RegistryBase>>();

  private constructor(lock: BaseLock, client: RegistryClient, io: Io | undefined) {
    this.#lock = lock;
    this.#client = client;
    this.#io = io;
  }

  static async open(specPath: string, options: RegistryBasesOptions, io?: Io): Promise<RegistryBases> {
    const lock = await BaseLock.open(specPath, options);
    return new RegistryBases(lock, createRegistryClient(options.flags ?? {}), io);
  }

  /** Every base resolved so far, in the order first used. */
  async resolved(): Promise<ResolvedBase[]> {
    return Promise.all(this.#resolved.values());
  }

  #resolve(text: string, where: string): Promise<ResolvedBase> {
    let p = this.#resolved.get(text);
    if (!p) {
      p = this.#lock.resolve(this.#client, text, where).then((r) => {
        this.#report(r);
        return r;
      });
      this.#resolved.set(text, p);
    }
    return p;
  }

  #report(r: ResolvedBase): void {
    if (!this.#io) return;
    if (r.moved) {
      this.#io.err(
        `img: warning: base ${r.reference}: the tag now ${r.moved === 'deleted' ? 'is gone' : `names ${r.moved}`}, ${this.#lock.path} has ${r.digest}; building on the locked digest (img build --update-lock follows the tag)`,
      );
    } else if (r.previous && !this.#io.quiet) {
      this.#io.err(`base ${r.reference}: ${r.previous} -> ${r.digest} (lock updated)`);
    }
  }

  /** The base a spec's `base` reference names, for `platform`. */
  async load(text: string, platform: Platform, where: string): Promise<RegistryBase> {
    const r = await this.#resolve(text, where);
    const key = `${r.digest} ${formatPlatform(platform)}`;
    let p = this.#pulled.get(key);
    if (!p) {
      p = this.#client.pullImage(r.pinned, { platform }).then((pulled) => {
        const baseInfo: BaseInfo = {
          reference: formatReference(r.pinned),
          registry: r.pinned.registry,
          repository: r.pinned.repository,
          ...(r.pinned.tag ? { tag: r.pinned.tag } : {}),
          digest: r.digest,
        };
        return { image: baseImageOf({ ...pulled, baseInfo }, r.reference, platform, where), graph: pulled };
      });
      this.#pulled.set(key, p);
    }
    return p;
  }

  /** Write the lock if the build changed it. */
  async saveLock(): Promise<void> {
    await this.#lock.save();
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
