const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign, as Go accepts
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const PART = /([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * A Docker/Go duration (`30s`, `1m30s`, `1.5h`, `500ms`, `0`) in nanoseconds, or undefined when the
 * text is not one. Go's time.ParseDuration syntax without a sign: durations in configs are never
 * negative. Exact (BigInt) arithmetic, so `0.1s` is 100000000 ns.
 */
export function parseDurationNs(text: string): bigint | undefined {
  if (text === '0') return 0n;
  if (text === '') return undefined;
  let total = 0n;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) return undefined;
    const [, whole = '', fraction = '', unit] = m;
    if (whole === '' && fraction === '') return undefined;
    const scale = UNIT_NS[unit!]!;
    total += BigInt(whole || '0') * scale;
    if (fraction !== '') total += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
  }
  return total;
}
