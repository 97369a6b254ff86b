import type { Hash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDigestHash, type DigestAlgorithm, isDigestAlgorithm } from './digests.js';
import { limitBytes } from './http/body.js';
import { HttpError, uploadUnknown } from './http/http-error.js';

/** An upload session: bytes received so far in `<uploads>/<id>/data`, hashed as they arrive. */
export interface UploadSession {
  readonly id: string;
  readonly repository: string;
  /** The algorithm hashed incrementally (`digest-algorithm` of the POST, default sha256). */
  readonly algorithm: DigestAlgorithm;
  size: number;
  /** Running hash of the bytes so far; undefined after a restart (the file is hashed again at the end). */
  hash: Hash | undefined;
  busy: boolean;
}

export interface UploadLimits {
  readonly maxUploads: number;
  readonly maxBlobBytes: number;
  readonly expiryMs: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `Range: 0-<last byte>` of an upload; "0-0" before the first byte, as Docker's registry answers. */
export function uploadRange(session: UploadSession): string {
  return `0-${Math.max(session.size - 1, 0)}`;
}

export function uploadLocation(session: UploadSession): string {
  return `/v2/${session.repository}/blobs/uploads/${session.id}`;
}

/** Upload sessions on disk under `root`, bounded in number, size and lifetime. */
export class UploadManager {
  readonly root: string;
  private readonly limits: UploadLimits;
  private readonly sessions = new Map<string, UploadSession>();
  private readonly known = new Set<string>();

  constructor(root: string, limits: UploadLimits) {
    this.root = root;
    this.limits = limits;
  }

  async prepare(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const id of await readdir(this.root)) if (UUID_RE.test(id)) this.known.add(id);
    await this.purgeExpired();
  }

  dataPath(session: UploadSession): string {
    return join(this.root, session.id, 'data');
  }

  async start(repository: string, algorithm: DigestAlgorithm): Promise<UploadSession> {
    if (this.known.size >= this.limits.maxUploads) {
      throw new HttpError(
        429,
        'TOOMANYREQUESTS',
        `too many uploads in progress (${this.limits.maxUploads})`,
        {
          headers: { 'Retry-After': '60' },
        },
      );
    }
    const id = randomUUID();
    const dir = join(this.root, id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'info.json'), JSON.stringify({ repository, algorithm }));
    await writeFile(join(dir, 'data'), '');
    const session: UploadSession = {
      id,
      repository,
      algorithm,
      size: 0,
      hash: createDigestHash(algorithm),
      busy: false,
    };
    this.sessions.set(id, session);
    this.known.add(id);
    return session;
  }

  /** The session `id` of `repository` (also one started before a restart); 404 when unknown. */
  async get(repository: string, id: string): Promise<UploadSession> {
    if (!UUID_RE.test(id)) throw uploadUnknown(id);
    let session = this.sessions.get(id);
    if (!session) {
      const dir = join(this.root, id);
      const info = await readFile(join(dir, 'info.json'), 'utf8').catch(() => undefined);
      const data = await stat(join(dir, 'data')).catch(() => undefined);
      if (!info || !data) throw uploadUnknown(id);
      const parsed = JSON.parse(info) as { repository: string; algorithm: string };
      const algorithm = isDigestAlgorithm(parsed.algorithm) ? parsed.algorithm : 'sha256';
      session = {
        id,
        repository: parsed.repository,
        algorithm,
        size: data.size,
        hash: undefined,
        busy: false,
      };
      this.sessions.set(id, session);
      this.known.add(id);
    }
    if (session.repository !== repository) throw uploadUnknown(id);
    return session;
  }

  /**
   * Appends `body` at `start` (the current size when not given; anything else is a 416). All or nothing:
   * on any failure the file and the running hash go back to where they were.
   */
  async append(session: UploadSession, body: Readable, start?: number, length?: number): Promise<void> {
    const outOfOrder = (why: string) =>
      new HttpError(416, 'BLOB_UPLOAD_INVALID', `upload ${session.id}: ${why}`, {
        headers: { Location: uploadLocation(session), Range: uploadRange(session) },
      });
    if (session.busy) throw outOfOrder('another request is writing to this upload');
    if (start !== undefined && start !== session.size) {
      throw outOfOrder(`chunk starts at byte ${start} but ${session.size} bytes were received`);
    }
    session.busy = true;
    const before = session.size;
    const snapshot = session.hash?.copy();
    let written = 0;
    const hash = session.hash;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        written += chunk.length;
        hash?.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(
        body,
        limitBytes(this.limits.maxBlobBytes - before, 'blob'),
        count,
        createWriteStream(this.dataPath(session), { flags: 'a' }),
      );
      if (length !== undefined && written !== length) {
        throw new HttpError(400, 'SIZE_INVALID', `chunk of ${written} bytes, but its range says ${length}`);
      }
      session.size = before + written;
    } catch (err) {
      await truncate(this.dataPath(session), before).catch(() => {});
      session.hash = snapshot;
      throw err;
    } finally {
      session.busy = false;
    }
  }

  /** The digest of everything received, with `algorithm` (hashing the file again when needed). */
  async digest(session: UploadSession, algorithm: DigestAlgorithm): Promise<string> {
    if (session.hash && session.algorithm === algorithm) {
      return `${algorithm}:${session.hash.copy().digest('hex')}`;
    }
    const hash = createDigestHash(algorithm);
    for await (const chunk of createReadStream(this.dataPath(session))) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  async remove(session: UploadSession): Promise<void> {
    this.sessions.delete(session.id);
    this.known.delete(session.id);
    await rm(join(this.root, session.id), { recursive: true, force: true });
  }

  /** Removes sessions without activity for longer than the expiry; returns how many. */
  async purgeExpired(now = Date.now()): Promise<number> {
    let purged = 0;
    for (const id of [...this.known]) {
      if (this.sessions.get(id)?.busy) continue;
      const info = await stat(join(this.root, id, 'data')).catch(() => undefined);
      if (info && now - info.mtimeMs <= this.limits.expiryMs) continue;
      this.sessions.delete(id);
      this.known.delete(id);
      await rm(join(this.root, id), { recursive: true, force: true });
      purged++;
    }
    return purged;
  }
}
