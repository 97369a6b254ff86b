import { LIMIT_NAMES, type TarInputLimits } from '@img/layer-writer';
import { CliError } from './errors.js';

/** Caps a user may raise with `--limit NAME=VALUE`: the tar and decompression caps, plus extras. */
export type LimitOptions = { -readonly [K in keyof TarInputLimits]: number } & { maxTocSize?: number };

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** `--limit`'s help text, listing the names it accepts. */
export function limitHelp(extra: Readonly<Record<string, string>> = {}): string {
  const names = [...Object.values(LIMIT_NAMES), ...Object.values(extra)].join(', ');
  return `raise a cap on untrusted input, e.g. tar-entries=2000000 or decompressed-size=1t (repeatable; names: ${names}; sizes take k/m/g/t, "unlimited" lifts a cap)`;
}

/**
 * Parse repeated `--limit NAME=VALUE` flags into library options. `extra` maps further option keys to
 * their names (e.g. `{ maxTocSize: 'toc-size' }` for eStargz readers).
 */
export function parseLimits(
  values: readonly string[] | undefined,
  extra: Readonly<Record<string, string>> = {},
): LimitOptions {
  const byName = new Map<string, string>();
  for (const [key, name] of Object.entries({ ...LIMIT_NAMES, ...extra })) byName.set(name, key);
  const out: Record<string, number> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    const name = eq < 0 ? value : value.slice(0, eq);
    const key = byName.get(name);
    if (eq <= 0 || key === undefined) {
      throw new CliError(
        'IMG_CLI_USAGE',
        `--limit ${JSON.stringify(value)}: expected NAME=VALUE with NAME one of ${[...byName.keys()].join(', ')}`,
      );
    }
    const text = value
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    const m = /^(\d+)\s*([kmgt]?)(i?b)?$/.exec(text);
    const n = text === 'unlimited' ? Number.POSITIVE_INFINITY : m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
    if (!(n >= 1) || !(Number.isSafeInteger(n) || n === Number.POSITIVE_INFINITY)) {
      throw new CliError(
        'IMG_CLI_USAGE',
        `--limit ${JSON.stringify(value)}: expected a positive integer (k/m/g/t suffixes allowed) or "unlimited"`,
      );
    }
    out[key] = n;
  }
  return out as LimitOptions;
}
