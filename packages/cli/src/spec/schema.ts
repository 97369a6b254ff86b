import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../image-spec.schema.json' with { type: 'json' };

/**
 * The JSON schema (draft-07) of an image spec file: the package's `image-spec.schema.json`, the one
 * source both editors (through `"$schema"`) and `img build` validate against.
 */
export const IMAGE_SPEC_SCHEMA: Readonly<Record<string, unknown>> = schema;

let compiled: ValidateFunction | undefined;

/** The spec schema's validator, compiled on first use: compiling is start-up time no other command needs. */
export function specValidator(): ValidateFunction {
  compiled ??= new Ajv({
    allErrors: true, // every error, so the most specific one can be reported
    verbose: true, // errors carry the failing value and its schema (for "got ..." and examples)
    strict: true,
    strictRequired: false, // `if: { not: { required: [...] } }` names properties defined elsewhere
    strictTuples: false, // healthcheck.test: a fixed first item, then any number of strings
    allowUnionTypes: true,
  }).compile(IMAGE_SPEC_SCHEMA);
  return compiled;
}

export type SchemaError = ErrorObject;
