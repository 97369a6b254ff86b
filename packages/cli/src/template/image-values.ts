import type { ImageConfig, Manifest } from '@img/oci-spec';
import { CliError } from '../util/errors.js';
import { readInput, readJsonInput } from '../util/files.js';
import { pairsToRecord } from '../util/flags.js';
import { readKvFile } from '../util/kv-file.js';
import { expandValue, lowerCaseKeys, readStampFiles, templateData } from './data.js';

/** Flags of `img manifest` / `img index` for env, labels, annotations and created, with templates. */
export interface ImageValueFlags {
  env?: string[];
  envFile?: string;
  label?: string[];
  labelFile?: string[];
  annotation?: string[];
  annotationsFile?: string;
  created?: string;
  createdFile?: string;
  template?: boolean;
  buildSettings?: string;
  stamp?: string[];
}

export interface ImageValues {
  env?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  created?: string;
}

/** What templates see of the base image (rules_img: `.base.config`, `.base.manifest`, `$ENV`). */
export interface TemplateBase {
  readonly config?: ImageConfig;
  readonly manifest?: Manifest;
  readonly digest?: string;
}

function nonEmpty(r: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(r).length > 0 ? r : undefined;
}

/**
 * The env, labels, annotations and created time of an image: flags and files merged as rules_img
 * does (env: the file, then `--env` over it; labels and annotations: the flags, then the files over
 * them), with Go templates expanded when `--template` is given (values of flags, label and
 * annotation files, and `--created`); an empty created time is omitted.
 */
export async function resolveImageValues(flags: ImageValueFlags, base?: TemplateBase): Promise<ImageValues> {
  let env = pairsToRecord(flags.env, '--env') ?? {};
  let labels = pairsToRecord(flags.label, '--label') ?? {};
  let annotations = pairsToRecord(flags.annotation, '--annotation') ?? {};
  const labelFiles: Record<string, string> = {};
  for (const path of flags.labelFile ?? []) Object.assign(labelFiles, await readKvFile(path, '--label-file'));
  let annotationsFile = flags.annotationsFile
    ? await readKvFile(flags.annotationsFile, '--annotations-file')
    : {};
  let created = flags.created;
  if (flags.template) {
    const settings = flags.buildSettings ? await readJsonInput(flags.buildSettings, '--build-settings') : {};
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `--build-settings ${flags.buildSettings}: expected a JSON object`,
      );
    }
    const stamp = flags.stamp?.length ? await readStampFiles(flags.stamp) : undefined;
    const extra = base
      ? {
          base: lowerCaseKeys({
            ...(base.config ? { config: base.config } : {}),
            ...(base.manifest ? { manifest: base.manifest } : {}),
            ...(base.digest ? { digest: base.digest } : {}),
          }),
        }
      : {};
    const data = templateData({
      buildSettings: settings as Record<string, unknown>,
      ...(stamp ? { stamp } : {}),
      extra,
    });
    const variables: Record<string, string> = {};
    for (const entry of base?.config?.config?.Env ?? []) {
      const eq = entry.indexOf('=');
      if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(entry.slice(0, eq)))
        variables[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    // Built without stamping, a stamp variable expands to "" (as BUILD_TIMESTAMP_RFC3339 does).
    const options = stamp ? { variables } : { variables, undefinedField: 'empty' as const };
    env = expandValue('env', env, data, options) as Record<string, string>;
    labels = expandValue('labels', labels, data, options) as Record<string, string>;
    Object.assign(labelFiles, expandValue('label_files', labelFiles, data, options));
    annotations = expandValue('annotations', annotations, data, options) as Record<string, string>;
    annotationsFile = expandValue('annotations_file', annotationsFile, data, options) as Record<
      string,
      string
    >;
    if (created !== undefined) created = expandValue('created_timestamp', created, data, options) as string;
  }
  if (flags.createdFile) {
    created = (await readInput(flags.createdFile, '--created-file')).toString('utf8').trim();
  }
  const envFile = flags.envFile ? await readKvFile(flags.envFile, '--env-file') : {};
  const out: ImageValues = {};
  const e = nonEmpty({ ...envFile, ...env });
  const l = nonEmpty({ ...labels, ...labelFiles });
  const a = nonEmpty({ ...annotations, ...annotationsFile });
  if (e) out.env = e;
  if (l) out.labels = l;
  if (a) out.annotations = a;
  if (created !== undefined && created !== '') out.created = created;
  return out;
}
