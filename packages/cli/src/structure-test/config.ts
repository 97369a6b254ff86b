import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { CliError } from '../util/errors.js';

/** container-structure-test config files larger than this are refused. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface KeyValueTest {
  readonly key: string;
  readonly value: string;
  readonly isRegex: boolean;
}

export interface MetadataTest {
  readonly env: readonly KeyValueTest[];
  readonly labels: readonly KeyValueTest[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly exposedPorts: readonly string[];
  readonly unexposedPorts: readonly string[];
  readonly volumes: readonly string[];
  readonly unmountedVolumes: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
}

export interface FileExistenceTest {
  readonly name: string;
  readonly path: string;
  readonly shouldExist: boolean;
  readonly permissions?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly isExecutableBy?: 'owner' | 'group' | 'other' | 'any';
}

export interface FileContentTest {
  readonly name: string;
  readonly path: string;
  readonly expectedContents: readonly string[];
  readonly excludedContents: readonly string[];
}

export interface CommandTest {
  readonly name: string;
}

/** One container-structure-test config (schemaVersion 2.0.0), checked field by field. */
export interface StructureTestConfig {
  readonly file: string;
  readonly metadataTest?: MetadataTest;
  readonly fileExistenceTests: readonly FileExistenceTest[];
  readonly fileContentTests: readonly FileContentTest[];
  readonly commandTests: readonly CommandTest[];
  readonly licenseTests: number;
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(readonly file: string) {}

  fail(where: string, message: string): never {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${this.file}: ${where}: ${message}`);
  }

  object(v: unknown, where: string, known: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'expected a mapping');
    for (const k of Object.keys(v as Obj)) {
      if (!known.includes(k)) this.fail(`${where}.${k}`, `unknown field (known: ${known.join(', ')})`);
    }
    return v as Obj;
  }

  list(v: unknown, where: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(where, 'expected a list');
    return v as unknown[];
  }

  string(v: unknown, where: string): string {
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string') this.fail(where, 'expected a string');
    return v as string;
  }

  optString(v: unknown, where: string): string | undefined {
    return v === undefined || v === null ? undefined : this.string(v, where);
  }

  strings(v: unknown, where: string): string[] {
    return this.list(v, where).map((x, i) => this.string(x, `${where}[${i}]`));
  }

  bool(v: unknown, where: string, fallback: boolean): boolean {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(where, 'expected true or false');
    return v as boolean;
  }

  int(v: unknown, where: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(where, 'expected an integer');
    return v as number;
  }

  keyValues(v: unknown, where: string): KeyValueTest[] {
    return this.list(v, where).map((x, i) => {
      const o = this.object(x, `${where}[${i}]`, ['key', 'value', 'isRegex']);
      return {
        key: this.string(o.key, `${where}[${i}].key`),
        value: this.string(o.value ?? '', `${where}[${i}].value`),
        isRegex: this.bool(o.isRegex, `${where}[${i}].isRegex`, false),
      };
    });
  }
}

const METADATA_FIELDS = [
  'env',
  'envVars',
  'labels',
  'entrypoint',
  'cmd',
  'exposedPorts',
  'unexposedPorts',
  'volumes',
  'unmountedVolumes',
  'workdir',
  'user',
];

function metadataTest(r: Reader, v: unknown): MetadataTest {
  const o = r.object(v, 'metadataTest', METADATA_FIELDS);
  const list = (k: string) =>
    o[k] === undefined || o[k] === null ? undefined : r.strings(o[k], `metadataTest.${k}`);
  const workdir = r.optString(o.workdir, 'metadataTest.workdir');
  const user = r.optString(o.user, 'metadataTest.user');
  const entrypoint = list('entrypoint');
  const cmd = list('cmd');
  return {
    env: [...r.keyValues(o.env, 'metadataTest.env'), ...r.keyValues(o.envVars, 'metadataTest.envVars')],
    labels: r.keyValues(o.labels, 'metadataTest.labels'),
    ...(entrypoint ? { entrypoint } : {}),
    ...(cmd ? { cmd } : {}),
    exposedPorts: list('exposedPorts') ?? [],
    unexposedPorts: list('unexposedPorts') ?? [],
    volumes: list('volumes') ?? [],
    unmountedVolumes: list('unmountedVolumes') ?? [],
    ...(workdir !== undefined ? { workdir } : {}),
    ...(user !== undefined ? { user } : {}),
  };
}

const EXECUTABLE_BY = ['owner', 'group', 'other', 'any'];

/** Parse a container-structure-test config (YAML or JSON); unknown fields fail, naming them. */
export function parseStructureTestConfig(text: string, file: string): StructureTestConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = new Reader(file);
  const o = r.object(doc ?? {}, 'config', [
    'schemaVersion',
    'globalEnvVars',
    'metadataTest',
    'fileExistenceTests',
    'fileContentTests',
    'commandTests',
    'licenseTests',
    'containerRunOptions',
  ]);
  const version = r.optString(o.schemaVersion, 'schemaVersion');
  if (version !== undefined && !version.startsWith('2.')) {
    r.fail('schemaVersion', `${JSON.stringify(version)} is not supported (2.0.0 is)`);
  }
  const named = (x: Obj, where: string) => r.optString(x.name, `${where}.name`);
  const fileExistenceTests = r.list(o.fileExistenceTests, 'fileExistenceTests').map((x, i) => {
    const where = `fileExistenceTests[${i}]`;
    const t = r.object(x, where, [
      'name',
      'path',
      'shouldExist',
      'permissions',
      'uid',
      'gid',
      'isExecutableBy',
    ]);
    const path = r.string(t.path, `${where}.path`);
    const by = r.optString(t.isExecutableBy, `${where}.isExecutableBy`);
    if (by !== undefined && !EXECUTABLE_BY.includes(by))
      r.fail(`${where}.isExecutableBy`, `expected one of ${EXECUTABLE_BY.join(', ')}`);
    const permissions = r.optString(t.permissions, `${where}.permissions`);
    const uid = r.int(t.uid, `${where}.uid`);
    const gid = r.int(t.gid, `${where}.gid`);
    return {
      name: named(t, where) ?? path,
      path,
      shouldExist: r.bool(t.shouldExist, `${where}.shouldExist`, true),
      ...(permissions !== undefined ? { permissions } : {}),
      ...(uid !== undefined ? { uid } : {}),
      ...(gid !== undefined ? { gid } : {}),
      ...(by !== undefined ? { isExecutableBy: by as FileExistenceTest['isExecutableBy'] } : {}),
    } satisfies FileExistenceTest;
  });
  const fileContentTests = r.list(o.fileContentTests, 'fileContentTests').map((x, i) => {
    const where = `fileContentTests[${i}]`;
    const t = r.object(x, where, ['name', 'path', 'expectedContents', 'excludedContents']);
    const path = r.string(t.path, `${where}.path`);
    return {
      name: named(t, where) ?? path,
      path,
      expectedContents: r.strings(t.expectedContents, `${where}.expectedContents`),
      excludedContents: r.strings(t.excludedContents, `${where}.excludedContents`),
    };
  });
  const commandTests = r.list(o.commandTests, 'commandTests').map((x, i) => {
    const t = r.object(x, `commandTests[${i}]`, [
      'name',
      'setup',
      'teardown',
      'envVars',
      'command',
      'args',
      'expectedOutput',
      'excludedOutput',
      'expectedError',
      'excludedError',
      'exitCode',
    ]);
    return { name: named(t, `commandTests[${i}]`) ?? `commandTests[${i}]` };
  });
  return {
    file,
    ...(o.metadataTest !== undefined && o.metadataTest !== null
      ? { metadataTest: metadataTest(r, o.metadataTest) }
      : {}),
    fileExistenceTests,
    fileContentTests,
    commandTests,
    licenseTests: r.list(o.licenseTests, 'licenseTests').length,
  };
}

export async function readStructureTestConfig(path: string): Promise<StructureTestConfig> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new CliError('IMG_CLI_INVALID_INPUT', `--config ${path}: ${err.code ?? err.message}`);
  });
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `--config ${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  return parseStructureTestConfig(bytes.toString('utf8'), path);
}
