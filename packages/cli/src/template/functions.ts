/** Go's builtin template functions and rules_img's additions, over plain JSON-like values. */

export type TemplateFunction = (...args: unknown[]) => unknown;

/** Go's truth: false, 0, "", nil and empty collections are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** How Go's fmt prints a value with %v. */
export function printValue(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${printValue((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function str(v: unknown, fn: string, i: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw new Error(`${fn}: argument ${i + 1} is ${printValue(v)}, not a string`);
  }
  return String(v);
}

function comparable(v: unknown): string | number | boolean {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw new Error(`cannot compare ${printValue(v)}`);
}

function compare(fn: string, a: unknown, b: unknown): number {
  const x = comparable(a);
  const y = comparable(b);
  if (typeof x !== typeof y) throw new Error(`${fn}: incompatible types for comparison`);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `KEY=VALUE` entries (an image config's Env) -> the value of `key`, or undefined. */
function lookupKv(array: unknown, key: string): string | undefined {
  if (!Array.isArray(array)) return undefined;
  const prefix = `${key}=`;
  for (const item of array) {
    if (typeof item === 'string' && item.startsWith(prefix)) return item.slice(prefix.length);
  }
  return undefined;
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)?([vsdqtfx%])/g, (_m, _flags, verb: string) => {
    if (verb === '%') return '%';
    const v = args[n++];
    switch (verb) {
      case 'q':
        return JSON.stringify(printValue(v));
      case 'd':
        return String(Math.trunc(Number(v)));
      case 'x':
        return typeof v === 'number' ? v.toString(16) : Buffer.from(printValue(v)).toString('hex');
      default:
        return printValue(v);
    }
  });
}

const RFC3339_UNIX = /^-?\d+$/;

/** Unix seconds -> UTC RFC 3339 (`2025-06-15T15:06:40Z`); "" stays "". */
export function unixToRfc3339Template(value: unknown): string {
  const s = str(value, 'rfc3339', 0).trim();
  if (s === '') return '';
  if (!RFC3339_UNIX.test(s)) throw new Error(`rfc3339: ${JSON.stringify(s)} is not a unix timestamp`);
  const ms = Number(s) * 1000;
  if (!Number.isSafeInteger(ms)) throw new Error(`rfc3339: ${s} is out of range`);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const FUNCTIONS: Readonly<Record<string, TemplateFunction>> = {
  // Go builtins
  and: (...args) => {
    for (const a of args) if (!truthy(a)) return a;
    return args[args.length - 1];
  },
  or: (...args) => {
    for (const a of args) if (truthy(a)) return a;
    return args[args.length - 1];
  },
  not: (a) => !truthy(a),
  eq: (a, ...rest) => {
    if (rest.length === 0) throw new Error('eq: missing argument for comparison');
    return rest.some((b) => compare('eq', a, b) === 0);
  },
  ne: (a, b) => compare('ne', a, b) !== 0,
  lt: (a, b) => compare('lt', a, b) < 0,
  le: (a, b) => compare('le', a, b) <= 0,
  gt: (a, b) => compare('gt', a, b) > 0,
  ge: (a, b) => compare('ge', a, b) >= 0,
  len: (a) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    if (a && typeof a === 'object') return Object.keys(a).length;
    throw new Error(`len of ${printValue(a)}`);
  },
  index: (a, ...keys) => {
    let v = a;
    for (const k of keys) {
      if (Array.isArray(v)) {
        if (typeof k !== 'number' || k < 0 || k >= v.length)
          throw new Error(`index out of range: ${printValue(k)}`);
        v = v[k];
      } else if (v && typeof v === 'object') v = (v as Record<string, unknown>)[str(k, 'index', 1)];
      else throw new Error(`can't index item of type ${v === null || v === undefined ? 'nil' : typeof v}`);
    }
    return v;
  },
  print: (...args) => args.map(printValue).join(''),
  println: (...args) => `${args.map(printValue).join(' ')}\n`,
  printf: (format, ...args) => sprintf(str(format, 'printf', 0), args),
  // rules_img's functions
  getkv: (array, key) => lookupKv(array, str(key, 'getkv', 1)) ?? '',
  appendkv: (array, key, suffix) =>
    (lookupKv(array, str(key, 'appendkv', 1)) ?? '') + str(suffix, 'appendkv', 2),
  prependkv: (array, key, prefix) =>
    str(prefix, 'prependkv', 2) + (lookupKv(array, str(key, 'prependkv', 1)) ?? ''),
  split: (s, sep) => str(s, 'split', 0).split(str(sep, 'split', 1)),
  join: (list, sep) => {
    if (!Array.isArray(list)) throw new Error(`join: argument 1 is ${printValue(list)}, not a list`);
    return list.map((x, i) => str(x, 'join', i)).join(str(sep, 'join', 1));
  },
  hasprefix: (s, p) => str(s, 'hasprefix', 0).startsWith(str(p, 'hasprefix', 1)),
  hassuffix: (s, p) => str(s, 'hassuffix', 0).endsWith(str(p, 'hassuffix', 1)),
  trimprefix: (s, p) => {
    const a = str(s, 'trimprefix', 0);
    const b = str(p, 'trimprefix', 1);
    return b && a.startsWith(b) ? a.slice(b.length) : a;
  },
  trimsuffix: (s, p) => {
    const a = str(s, 'trimsuffix', 0);
    const b = str(p, 'trimsuffix', 1);
    return b && a.endsWith(b) ? a.slice(0, -b.length) : a;
  },
  rfc3339: (v) => unixToRfc3339Template(v),
};
