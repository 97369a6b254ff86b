/** One line of distribution's access log (Apache combined format). */
export interface AccessLogEntry {
  method: string;
  /** Request URI as sent (path and query). */
  uri: string;
  /** Path without the query string. */
  path: string;
  status: number;
  bytes: number;
  userAgent: string;
}

const COMBINED = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"$/;

/** Access-log entries found in a registry log (other log lines are ignored). */
export function parseAccessLog(log: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of log.split('\n')) {
    const m = COMBINED.exec(line);
    if (m === null) continue;
    const uri = m[2]!;
    const q = uri.indexOf('?');
    entries.push({
      method: m[1]!,
      uri,
      path: q < 0 ? uri : uri.slice(0, q),
      status: Number(m[3]),
      bytes: m[4] === '-' ? 0 : Number(m[4]),
      userAgent: m[5]!,
    });
  }
  return entries;
}

const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/** Parses /v2/<repo>/blobs/<digest>; undefined for other paths (uploads, manifests...). */
export function blobPathParts(path: string): { repository: string; digest: string } | undefined {
  const m = BLOB_PATH.exec(path);
  return m === null ? undefined : { repository: m[1]!, digest: m[2]! };
}
