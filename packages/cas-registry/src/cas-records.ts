import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { type BlobDigest, DIGEST_ALGORITHMS, parseBlobDigest } from './digests.js';

/** What the registry knows of a blob kept in the CAS: the CAS finds blobs by sha256 and size only. */
export interface CasRecord {
  readonly size: number;
  /** The sha256 the CAS holds the blob under, for a blob pushed with another digest (sha512). */
  readonly sha256?: string;
  /** The size came from a manifest's descriptor (the blob was written to the CAS by someone else). */
  readonly learned?: true;
}

export interface StoredRecord {
  readonly digest: BlobDigest;
  readonly record: CasRecord;
  readonly modifiedMs: number;
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A record file's content, or undefined when it is not one this store wrote. */
function parseRecord(text: string): CasRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { size, sha256, learned } = (value ?? {}) as { size?: unknown; sha256?: unknown; learned?: unknown };
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  const flag = learned === true ? { learned: true as const } : {};
  if (sha256 === undefined) return { size, ...flag };
  if (typeof sha256 !== 'string' || parseBlobDigest(sha256)?.algorithm !== 'sha256') return undefined;
  return { size, sha256, ...flag };
}

/**
 * One small file per blob, `<root>/<algorithm>/<hex>` = `{"size":N[,"sha256":"sha256:..."]}`, written
 * atomically and fsynced: after a restart the registry still knows how to ask the CAS for each blob.
 * The file's modification time is when the blob was last written or learned (garbage collection's clock).
 */
export class CasRecords {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private pathOf(digest: BlobDigest): string {
    return join(this.root, digest.algorithm, digest.hex);
  }

  async get(digest: BlobDigest): Promise<CasRecord | undefined> {
    const text = await readFile(this.pathOf(digest), 'utf8').catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    return text === undefined ? undefined : parseRecord(text);
  }

  /** Writes the record, or when the same one is there, refreshes its time. */
  async put(digest: BlobDigest, record: CasRecord): Promise<void> {
    const existing = await this.get(digest);
    const same =
      existing?.size === record.size &&
      existing.sha256 === record.sha256 &&
      existing.learned === record.learned;
    if (same) {
      const now = new Date();
      await utimes(this.pathOf(digest), now, now).catch(() => {});
      return;
    }
    await writeFileAtomic(this.pathOf(digest), JSON.stringify(record));
  }

  async delete(digest: BlobDigest): Promise<boolean> {
    if (!(await this.get(digest))) return false;
    await rm(this.pathOf(digest), { force: true });
    return true;
  }

  async *list(): AsyncIterable<StoredRecord> {
    for (const algorithm of Object.keys(DIGEST_ALGORITHMS)) {
      const dir = join(this.root, algorithm);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const digest = parseBlobDigest(`${algorithm}:${name}`);
        if (!digest) continue; // temp files of writeFileAtomic start with a dot
        const info = await stat(join(dir, name)).catch(() => undefined);
        const record = info?.isFile() ? await this.get(digest) : undefined;
        if (info && record) yield { digest, record, modifiedMs: info.mtimeMs };
      }
    }
  }
}
