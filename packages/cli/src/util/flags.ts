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

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration flag (`90s`, `10m`, `1h`, `500ms`; a bare number is seconds) in ms, at most `maxMs`. */
export function parseDurationFlag(value: string, flag: string, maxMs: number): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * DURATION_UNITS_MS[m[2] ?? 's']! : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms > maxMs) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `${flag} ${JSON.stringify(value)}: expected a duration such as 90s, 10m or 1h (0 for none), at most ${maxMs / 3_600_000} h`,
    );
  }
  return ms;
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
