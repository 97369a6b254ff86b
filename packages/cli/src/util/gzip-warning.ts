import { DEFAULT_GZIP_LEVEL, gzipMatchesReference } from '@img/layer-writer';
import type { Io } from '../io.js';

let warned = false;

/**
 * Warn once when this Node's zlib would give gzip bytes unlike official Node.js builds (a distro
 * Node linked against the system zlib): layers stay valid, but their digests will not match those
 * built elsewhere.
 */
export function warnIfGzipNotReference(io: Io, level: number = DEFAULT_GZIP_LEVEL): void {
  if (warned || gzipMatchesReference(level)) return;
  warned = true;
  io.err(
    `img: warning: this Node (${process.version}, zlib ${process.versions.zlib}) compresses gzip differently from official Node.js builds, so gzip layer digests will not match other machines; use an official Node.js build, or zstd layers, for reproducible digests`,
  );
}
