import { type CompressorJobs, MAX_COMPRESSOR_JOBS } from '@img/layer-writer';
import { CliError } from './errors.js';

/** Commander collector for repeatable flags. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Split `KEY=VALUE` (the first `=`), naming the flag on a malformed value. */
export function splitPair(value: string, flag: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError('IMG_CLI_USAGE', `${flag} ${JSON.stringify(value)}: expected KEY=VALUE`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

/** Repeated `KEY=VALUE` flags as an ordered record (a later key wins). */
export function pairsToRecord(
  values: readonly string[] | undefined,
  flag: string,
): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const [k, val] = splitPair(v, flag);
    out[k] = val;
  }
  return out;
}

export function parseIntFlag(value: string, flag: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `${flag} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
    );
  }
  return Number(value);
}

/** `--compression-level` for a compression: gzip 0-9, zstd 1-19; undefined when not given. */
export function parseCompressionLevel(value: string | undefined, compression: string): number | undefined {
  if (value === undefined) return undefined;
  const zstd = compression === 'zstd';
  return parseIntFlag(value, '--compression-level', zstd ? 1 : 0, zstd ? 19 : 9);
}

export function parseJsonFlag(value: string, flag: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new CliError('IMG_CLI_USAGE', `${flag}: invalid JSON: ${(err as Error).message}`);
  }
}

/** SOURCE_DATE_EPOCH as Unix seconds, or undefined when unset. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v))
    throw new CliError('IMG_CLI_USAGE', `SOURCE_DATE_EPOCH ${JSON.stringify(v)}: expected Unix seconds`);
  return Number(v);
}

/** `--compressor-jobs N|nproc`. */
export function parseCompressorJobs(value: string, flag = '--compressor-jobs'): CompressorJobs {
  if (value === 'nproc') return 'nproc';
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_COMPRESSOR_JOBS) return Number(value);
  throw new CliError(
    'IMG_CLI_USAGE',
    `${flag} ${JSON.stringify(value)}: expected an integer from 1 to ${MAX_COMPRESSOR_JOBS} or "nproc"`,
  );
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A duration such as `90s`, `30m`, `1h30m` or `7d`, in milliseconds (at least 1 ms). */
export function parseDurationFlag(value: string, flag: string): number {
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  const total = parts.reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNITS_MS[unit!]!, 0);
  if (
    parts.length === 0 ||
    parts.map((p) => p[0]).join('') !== value ||
    !(total >= 1) ||
    !Number.isSafeInteger(total)
  ) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `${flag} ${JSON.stringify(value)}: expected a duration such as 90s, 30m, 1h30m or 7d`,
    );
  }
  return total;
}
