import type { Io } from '../io.js';

/**
 * Print a registry document (manifest, index, config) exactly as stored, so that `| sha256sum` gives
 * its digest; with --json, the parsed document is the command's JSON result instead.
 */
export function printDocument(io: Io, bytes: Uint8Array): void {
  if (io.result) {
    io.result(JSON.parse(Buffer.from(bytes).toString('utf8')));
    return;
  }
  if (io.write) io.write(bytes);
  else io.out(Buffer.from(bytes).toString('utf8'));
}
