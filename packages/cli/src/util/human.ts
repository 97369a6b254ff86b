const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes as a human size: `512 B`, `1.5 MiB`, `3.2 GiB` (binary units, one decimal past KiB). */
export function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A transfer rate: bytes over seconds, as `12.3 MiB/s`. */
export function humanRate(bytes: number, seconds: number): string {
  return `${humanSize(Math.round(bytes / Math.max(seconds, 0.001)))}/s`;
}
