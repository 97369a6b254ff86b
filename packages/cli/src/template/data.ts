import { readFile } from 'node:fs/promises';
import { CliError } from '../util/errors.js';
import { TemplateError } from './errors.js';
import { expandTemplate } from './evaluate.js';
import { unixToRfc3339Template } from './functions.js';

/** A template value: one string, a list (tags), or a dict (labels, annotations, env). */
export type TemplateValue = string | readonly string[] | Readonly<Record<string, string>>;

/** Stamp files larger than this are refused (Bazel's are a few hundred bytes). */
export const MAX_STAMP_FILE_BYTES = 1024 * 1024;

/** `KEY VALUE` lines of Bazel's stable-status.txt / volatile-status.txt (later files win). */
export async function readStampFiles(paths: readonly string[]): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const path of paths) {
    const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new CliError('IMG_CLI_INVALID_INPUT', `--stamp ${path}: ${err.code ?? err.message}`);
    });
    if (bytes.length > MAX_STAMP_FILE_BYTES) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `--stamp ${path}: larger than ${MAX_STAMP_FILE_BYTES} bytes`,
      );
    }
    for (const line of bytes.toString('utf8').split('\n')) {
      const text = line.replace(/\r$/, '');
      if (text === '') continue;
      const space = text.indexOf(' ');
      if (space > 0) vars[text.slice(0, space)] = text.slice(space + 1);
      else vars[text] = '';
    }
  }
  return vars;
}

export interface TemplateDataOptions {
  /** Values of build settings (string_flag etc.), by the name the rule gives them. */
  readonly buildSettings?: Readonly<Record<string, unknown>>;
  /** Workspace status variables; undefined when stamping is off. */
  readonly stamp?: Readonly<Record<string, string>>;
  /** More variables (e.g. `base` with the base image's config and manifest). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Lower-case every object key, recursively (rules_img's `.base.config.config.env`). */
export function lowerCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerCaseKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), lowerCaseKeys(v)]));
  }
  return value;
}

/**
 * The data templates see: stamp variables, then build settings over them, and
 * BUILD_TIMESTAMP_RFC3339 (Bazel's BUILD_TIMESTAMP as RFC 3339; "" when not stamping).
 */
export function templateData(options: TemplateDataOptions): Record<string, unknown> {
  const stamp = options.stamp ?? {};
  const data: Record<string, unknown> = {
    ...(options.extra ?? {}),
    ...stamp,
    ...(options.buildSettings ?? {}),
  };
  if (!Object.hasOwn(data, 'BUILD_TIMESTAMP_RFC3339')) {
    data.BUILD_TIMESTAMP_RFC3339 = stamp.BUILD_TIMESTAMP ? unixToRfc3339Template(stamp.BUILD_TIMESTAMP) : '';
  }
  return data;
}

export interface ExpandOptions {
  /** True when stamp variables were not given: an undefined field then says so. */
  readonly unstamped?: boolean;
  /**
   * What a printed field that is not defined does: fail (default), expand to "" (image values built
   * without stamping), or leave the value's template as it was (a deploy request: `bazel run` says
   * stamping is off).
   */
  readonly undefinedField?: 'fail' | 'empty' | 'keep';
  /** Predefined `$NAME` variables (a base image's environment). */
  readonly variables?: Readonly<Record<string, unknown>>;
}

function expandOne(
  template: string,
  where: string,
  data: Record<string, unknown>,
  options: ExpandOptions,
): string {
  try {
    return expandTemplate(template, data, options.variables, options.undefinedField === 'empty');
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    if (options.undefinedField === 'keep' && /is not defined$/.test(err.detail)) return template;
    const hint =
      options.unstamped && /is not defined$/.test(err.detail)
        ? ' (stamping is off: build with --stamp, or set stamp = "force")'
        : '';
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${where} ${JSON.stringify(template)}: ${err.message}${hint}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Expand one attribute's value; errors name the attribute (`labels["version"]`, `tags[1]`), the
 * template and the line:column in it.
 */
export function expandValue(
  name: string,
  value: TemplateValue,
  data: Record<string, unknown>,
  options: ExpandOptions = {},
): TemplateValue {
  if (typeof value === 'string') return expandOne(value, name, data, options);
  if (Array.isArray(value)) return value.map((v, i) => expandOne(v, `${name}[${i}]`, data, options));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, expandOne(v, `${name}[${JSON.stringify(k)}]`, data, options)]),
  );
}

/** True when a value holds a template action. */
export function isTemplate(value: TemplateValue): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some((v) => v.includes('{{'));
  return Object.values(value).some((v) => v.includes('{{'));
}
