import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { IMAGE_SPEC_SCHEMA, specValidator } from '../src/spec/schema.js';
import { EXAMPLE_DIR, REPO_ROOT } from './helpers.js';

const CLI_DIR = join(REPO_ROOT, 'packages/cli');
const schemaFile = async () => JSON.parse(await readFile(join(CLI_DIR, 'image-spec.schema.json'), 'utf8'));

/** Every property schema in the document (not `if` conditions), with its path in the schema. */
function propertySchemas(node: unknown, at = ''): Array<[string, Record<string, unknown>]> {
  if (node === null || typeof node !== 'object') return [];
  const out: Array<[string, Record<string, unknown>]> = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'if') continue;
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, prop] of Object.entries(value))
        out.push([`${at}.${name}`, prop as Record<string, unknown>]);
    }
    out.push(...propertySchemas(value, `${at}.${key}`));
  }
  return out;
}

describe('image-spec.schema.json', () => {
  it('is the schema the CLI validates with (one source of truth)', async () => {
    expect(IMAGE_SPEC_SCHEMA).toEqual(await schemaFile());
    expect(specValidator().schema).toBe(IMAGE_SPEC_SCHEMA);
  });

  it('is a valid draft-07 schema that an editor can use as it is', async () => {
    const schema = await schemaFile();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('describes every field', async () => {
    const schema = await schemaFile();
    const props = propertySchemas(schema);
    expect(props.length).toBeGreaterThan(50);
    const described = (p: Record<string, unknown>): boolean => {
      if (typeof p.description === 'string' && p.description !== '') return true;
      const ref = typeof p.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(p.$ref)?.[1] : undefined;
      return ref !== undefined && described(schema.definitions[ref]);
    };
    const undocumented = props.filter(([, p]) => !described(p));
    expect(undocumented.map(([at]) => at)).toEqual([]);
  });

  it('accepts every example spec in the repository', async () => {
    const validate = specValidator();
    const specs = (await readdir(EXAMPLE_DIR)).filter((f) => f.endsWith('.json'));
    expect(specs.length).toBeGreaterThan(0);
    for (const f of specs) {
      const doc = JSON.parse(await readFile(join(EXAMPLE_DIR, f), 'utf8'));
      expect(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('ships in the package and is exported', async () => {
    const pkg = JSON.parse(await readFile(join(CLI_DIR, 'package.json'), 'utf8'));
    expect(pkg.files).toContain('image-spec.schema.json');
    expect(pkg.exports['./image-spec.schema.json']).toBe('./image-spec.schema.json');
  });
});
