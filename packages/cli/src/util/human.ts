const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes as a human size: `512 B`, `1.50 MiB`, `31.2 GiB` (binary units). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}

/** A transfer rate: bytes over seconds, as `12.3 MiB/s`. */
export function humanRate(bytes: number, seconds: number): string {
  return `${humanSize(Math.round(bytes / Math.max(seconds, 0.001)))}/s`;
}
