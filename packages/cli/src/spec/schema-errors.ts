import { atKeyPath, type KeySegment, pointerSegments } from './key-path.js';
import type { SchemaError } from './schema.js';

type SchemaObject = Readonly<Record<string, unknown>>;

/** Keywords that only summarise errors found below them. */
const SUMMARIES = new Set(['if', 'anyOf', 'oneOf', 'not', 'propertyNames']);

function depth(e: SchemaError): number {
  return e.instancePath === '' ? 0 : e.instancePath.split('/').length;
}

/** The error to report: the deepest one (the most specific place), summaries skipped. */
export function mostSpecific(errors: readonly SchemaError[]): SchemaError {
  const real = errors.filter((e) => !SUMMARIES.has(e.keyword));
  const pool = real.length > 0 ? real : errors;
  return pool.reduce((best, e) => (depth(e) > depth(best) ? e : best));
}

function show(value: unknown): string {
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

function example(schema: unknown): string {
  const examples = (schema as { examples?: unknown[] } | undefined)?.examples;
  const first = examples?.find((x) => typeof x !== 'object');
  return first === undefined ? '' : ` (e.g. ${JSON.stringify(first)})`;
}

/** A `{ "$ref": "#/definitions/x" }` schema resolved against the root schema. */
function resolveRef(schema: unknown, root: SchemaObject): unknown {
  const ref = (schema as { $ref?: string } | undefined)?.$ref;
  if (!ref?.startsWith('#/definitions/')) return schema;
  return (root.definitions as SchemaObject | undefined)?.[ref.slice('#/definitions/'.length)];
}

function typeList(type: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).map((t) =>
    t === 'integer' ? 'an integer' : t === 'array' ? 'an array' : t === 'object' ? 'an object' : `a ${t}`,
  );
  return types.join(' or ');
}

/** What is wrong, for one schema error, after its key path. */
function problem(e: SchemaError, root: SchemaObject): { extra: KeySegment[]; text: string } {
  const p = e.params as Record<string, unknown>;
  const parent = e.parentSchema as SchemaObject | undefined;
  switch (e.keyword) {
    case 'required': {
      const key = p.missingProperty as string;
      // a conditional `required` (then: { required: [...] }) has no properties of its own
      const props = (parent?.properties ?? (e.instancePath === '' ? root.properties : undefined)) as
        | SchemaObject
        | undefined;
      return { extra: [key], text: `required${example(resolveRef(props?.[key], root))}` };
    }
    case 'additionalProperties': {
      const key = p.additionalProperty as string;
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {});
      return {
        extra: [key],
        text: `unknown key${allowed.length ? ` (expected one of ${allowed.join(', ')})` : ''}`,
      };
    }
    case 'type':
      return { extra: [], text: `must be ${typeList(p.type)}, not ${show(e.data)}${example(parent)}` };
    case 'enum':
      return {
        extra: [],
        text: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${show(e.data)}`,
      };
    case 'pattern': {
      if (e.propertyName !== undefined) {
        return { extra: [], text: `key ${JSON.stringify(e.propertyName)} does not match ${p.pattern}` };
      }
      const hint = example(parent);
      return { extra: [], text: `${show(e.data)} is not valid${hint || ` (must match ${p.pattern})`}` };
    }
    case 'minimum':
    case 'maximum': {
      // a conditional bound (compressionLevel under if/then/else) says why in its description
      const why =
        /\/(then|else)\//.test(e.schemaPath) && parent?.description ? ` (${parent.description})` : '';
      return { extra: [], text: `${e.message}, got ${JSON.stringify(e.data)}${why}` };
    }
    case 'minLength':
      return { extra: [], text: p.limit === 1 ? 'must not be empty' : (e.message ?? e.keyword) };
    default:
      return { extra: [], text: e.message ?? e.keyword };
  }
}

/** One line naming the spec file and the key path of the most specific schema error. */
export function describeSchemaErrors(
  file: string,
  doc: unknown,
  errors: readonly SchemaError[],
  schema: SchemaObject,
): string {
  const e = mostSpecific(errors);
  const { extra, text } = problem(e, schema);
  const path = [...pointerSegments(e.instancePath, doc), ...extra];
  return `${atKeyPath(file, path)}: ${text}`;
}
