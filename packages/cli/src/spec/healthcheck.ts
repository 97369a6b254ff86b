import { CliError } from '../util/errors.js';
import { parseDurationNs } from './duration.js';

/** A healthcheck as the spec writes it (config.healthcheck). */
export interface HealthcheckSpec {
  /** A shell command (CMD-SHELL), or ["CMD", ...argv], ["CMD-SHELL", command] or ["NONE"]. */
  readonly test: string | readonly string[];
  readonly interval?: string;
  readonly timeout?: string;
  readonly startPeriod?: string;
  readonly startInterval?: string;
  readonly retries?: number;
}

/** Docker's config.Healthcheck (HealthConfig): durations in nanoseconds, zero values omitted. */
export interface DockerHealthcheck {
  readonly Test: string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

const DURATIONS = [
  ['interval', 'Interval'],
  ['timeout', 'Timeout'],
  ['startPeriod', 'StartPeriod'],
  ['startInterval', 'StartInterval'],
] as const;

/** Docker refuses shorter non-zero durations ("cannot be less than 1ms"). */
const MIN_DURATION_NS = 1_000_000n;

function testOf(test: HealthcheckSpec['test'], where: string): string[] {
  if (typeof test === 'string') return ['CMD-SHELL', test];
  const [kind, ...rest] = test;
  const bad = (why: string) => new CliError('IMG_CLI_INVALID_SPEC', `${where}.test: ${why}`);
  if (kind === 'NONE' && rest.length > 0) throw bad('["NONE"] takes no arguments');
  if (kind === 'CMD' && rest.length === 0) throw bad('["CMD", ...] needs the command and its arguments');
  if (kind === 'CMD-SHELL' && rest.length !== 1) throw bad('["CMD-SHELL", command] takes one command string');
  return [...test];
}

/**
 * The config's Healthcheck for a spec's healthcheck; `where` is its key path (`spec.json:
 * config.healthcheck`) for errors.
 */
export function dockerHealthcheck(spec: HealthcheckSpec, where: string): DockerHealthcheck {
  const out: { -readonly [K in keyof DockerHealthcheck]: DockerHealthcheck[K] } = {
    Test: testOf(spec.test, where),
  };
  for (const [key, field] of DURATIONS) {
    const text = spec[key];
    if (text === undefined) continue;
    const ns = parseDurationNs(text);
    const bad = (why: string) =>
      new CliError('IMG_CLI_INVALID_SPEC', `${where}.${key}: ${JSON.stringify(text)} ${why}`);
    if (ns === undefined) throw bad('is not a duration (e.g. "30s", "1m30s", "500ms")');
    if (ns > 0n && ns < MIN_DURATION_NS) throw bad('is shorter than 1ms (Docker refuses it)');
    if (ns > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('is too long (at most about 104 days)');
    if (ns > 0n) out[field] = Number(ns);
  }
  if (spec.retries) out.Retries = spec.retries;
  return out;
}
