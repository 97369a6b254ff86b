import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor } from '@img/oci-spec';
import { syncDirectory, writeFileAtomic } from './atomic-file.js';
import { type BlobDigest, parseBlobDigest } from './digests.js';
import { isRepositoryName, isTag } from './names.js';

/** A manifest as pushed: its exact bytes, and the media type it was pushed as. */
export interface StoredManifest {
  readonly digest: BlobDigest;
  readonly mediaType: string;
  readonly bytes: Buffer;
  /** The `subject` digest, for manifests that refer to another one. */
  readonly subject?: string;
}

export interface StoredEntry<T> {
  readonly value: T;
  /** Last write of the entry, ms since the epoch. */
  readonly modifiedMs: number;
}

const MANIFESTS = '_manifests';
const TAGS = '_tags';
const BLOBS = '_blobs';
const REFERRERS = '_referrers';

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function names(dir: string): Promise<string[]> {
  return ((await orUndefined(readdir(dir))) ?? []).filter((n) => !n.startsWith('.')).sort();
}

/** The `<algorithm>/<hex>` files under `dir`, as digests with their modification times. */
async function* digestEntries(dir: string): AsyncIterable<StoredEntry<BlobDigest>> {
  for (const algorithm of await names(dir)) {
    for (const hex of await names(join(dir, algorithm))) {
      const digest = parseBlobDigest(`${algorithm}:${hex}`);
      const info = digest && (await orUndefined(stat(join(dir, algorithm, hex))));
      if (digest && info) yield { value: digest, modifiedMs: info.mtimeMs };
    }
  }
}

function checkName(name: string): void {
  if (!isRepositoryName(name)) throw new Error(`invalid repository name reached the store: ${name}`);
}

/**
 * Manifests, tags, blob links and the referrers index of every repository, as small files under `root`
 * (`repositories/<name>/_manifests|_tags|_blobs|_referrers`). Repository names never contain a
 * component starting with `_`, so the store's directories cannot collide with a nested repository.
 * Manifests and tags are written atomically and fsynced: a restart keeps every acknowledged push.
 */
export class RepositoryStore {
  readonly root: string;

  constructor(root: string) {
    this.root = join(root, 'repositories');
  }

  private repoDir(name: string): string {
    checkName(name);
    return join(this.root, name);
  }

  private manifestPath(name: string, digest: BlobDigest): string {
    return join(this.repoDir(name), MANIFESTS, digest.algorithm, digest.hex);
  }

  private tagPath(name: string, tag: string): string {
    if (!isTag(tag)) throw new Error(`invalid tag reached the store: ${tag}`);
    return join(this.repoDir(name), TAGS, tag);
  }

  private blobLinkPath(name: string, digest: BlobDigest): string {
    return join(this.repoDir(name), BLOBS, digest.algorithm, digest.hex);
  }

  private referrersDir(name: string, subject: BlobDigest): string {
    return join(this.repoDir(name), REFERRERS, subject.algorithm, subject.hex);
  }

  async prepare(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async repositoryExists(name: string): Promise<boolean> {
    return (await orUndefined(stat(this.repoDir(name))))?.isDirectory() ?? false;
  }

  /** Every repository holding manifests, tags or blobs, sorted. */
  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await names(dir);
      if (prefix && entries.some((e) => e === MANIFESTS || e === TAGS || e === BLOBS)) out.push(prefix);
      for (const entry of entries) {
        if (entry.startsWith('_')) continue;
        const child = prefix ? `${prefix}/${entry}` : entry;
        if (isRepositoryName(child)) await walk(join(dir, entry), child);
      }
    };
    await walk(this.root, '');
    return out.sort();
  }

  // Manifests: a JSON header line ({"mediaType", "subject"?}) followed by the exact pushed bytes.

  async readManifest(name: string, digest: BlobDigest): Promise<StoredManifest | undefined> {
    const data = await orUndefined(readFile(this.manifestPath(name, digest)));
    if (!data) return undefined;
    const eol = data.indexOf(10);
    if (eol < 0) return undefined;
    const header = JSON.parse(data.subarray(0, eol).toString('utf8')) as {
      mediaType: string;
      subject?: string;
    };
    return {
      digest,
      mediaType: header.mediaType,
      bytes: data.subarray(eol + 1),
      ...(header.subject ? { subject: header.subject } : {}),
    };
  }

  /**
   * Stores a manifest; with a subject, its referrers entry is written first (the referrers list only
   * shows entries whose manifest exists, so a crash in between leaves nothing visible).
   */
  async writeManifest(name: string, manifest: StoredManifest, referrer?: Descriptor): Promise<void> {
    const subject = manifest.subject ? parseBlobDigest(manifest.subject) : undefined;
    if (subject && referrer) {
      const entry = join(
        this.referrersDir(name, subject),
        `${manifest.digest.algorithm}-${manifest.digest.hex}`,
      );
      await writeFileAtomic(entry, JSON.stringify(referrer));
    }
    const header = JSON.stringify({
      mediaType: manifest.mediaType,
      ...(manifest.subject ? { subject: manifest.subject } : {}),
    });
    await writeFileAtomic(
      this.manifestPath(name, manifest.digest),
      Buffer.concat([Buffer.from(`${header}\n`), manifest.bytes]),
    );
  }

  /** Deletes a manifest, the tags pointing at it and its referrers entry; false when it was not there. */
  async deleteManifest(name: string, digest: BlobDigest): Promise<boolean> {
    const manifest = await this.readManifest(name, digest);
    if (!manifest) return false;
    for (const [tag, target] of await this.listTagTargets(name)) {
      if (target === digest.value) await this.deleteTag(name, tag);
    }
    await rm(this.manifestPath(name, digest), { force: true });
    const subject = manifest.subject ? parseBlobDigest(manifest.subject) : undefined;
    if (subject) {
      await rm(join(this.referrersDir(name, subject), `${digest.algorithm}-${digest.hex}`), { force: true });
    }
    return true;
  }

  listManifests(name: string): AsyncIterable<StoredEntry<BlobDigest>> {
    return digestEntries(join(this.repoDir(name), MANIFESTS));
  }

  // Tags: one file per tag holding the digest.

  async resolveTag(name: string, tag: string): Promise<BlobDigest | undefined> {
    const text = await orUndefined(readFile(this.tagPath(name, tag), 'utf8'));
    return text === undefined ? undefined : parseBlobDigest(text.trim());
  }

  async writeTag(name: string, tag: string, digest: BlobDigest): Promise<void> {
    await writeFileAtomic(this.tagPath(name, tag), digest.value);
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    const path = this.tagPath(name, tag);
    if (!(await orUndefined(stat(path)))) return false;
    await rm(path, { force: true });
    return true;
  }

  /** The repository's tags in ASCII order, or undefined when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    if (!(await this.repositoryExists(name))) return undefined;
    return (await names(join(this.repoDir(name), TAGS))).filter(isTag);
  }

  /** [tag, digest] pairs of the repository, in tag order. */
  async listTagTargets(name: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const tag of (await this.listTags(name)) ?? []) {
      const digest = await this.resolveTag(name, tag);
      if (digest) out.push([tag, digest.value]);
    }
    return out;
  }

  // Blob links: which blobs a repository may serve (pushed, mounted or referenced by its manifests).

  async hasBlobLink(name: string, digest: BlobDigest): Promise<boolean> {
    return (await orUndefined(stat(this.blobLinkPath(name, digest)))) !== undefined;
  }

  /** Links blobs into a repository (refreshing the time of existing links), durably. */
  async linkBlobs(name: string, digests: readonly BlobDigest[]): Promise<void> {
    const dirs = new Set<string>();
    for (const digest of digests) {
      const path = this.blobLinkPath(name, digest);
      const dir = join(this.repoDir(name), BLOBS, digest.algorithm);
      if (!dirs.has(dir)) await mkdir(dir, { recursive: true });
      dirs.add(dir);
      await writeFile(path, '');
    }
    for (const dir of dirs) await syncDirectory(dir);
  }

  async unlinkBlob(name: string, digest: BlobDigest): Promise<boolean> {
    if (!(await this.hasBlobLink(name, digest))) return false;
    await rm(this.blobLinkPath(name, digest), { force: true });
    return true;
  }

  listBlobLinks(name: string): AsyncIterable<StoredEntry<BlobDigest>> {
    return digestEntries(join(this.repoDir(name), BLOBS));
  }

  // Referrers: descriptors of the manifests whose subject is a digest, kept when they are pushed.

  async listReferrers(name: string, subject: BlobDigest): Promise<Descriptor[]> {
    const dir = this.referrersDir(name, subject);
    const out: Descriptor[] = [];
    for (const entry of await names(dir)) {
      const digest = parseBlobDigest(entry.replace('-', ':'));
      if (!digest || !(await orUndefined(stat(this.manifestPath(name, digest))))) continue;
      const text = await orUndefined(readFile(join(dir, entry), 'utf8'));
      if (text !== undefined) out.push(JSON.parse(text) as Descriptor);
    }
    return out;
  }
}
