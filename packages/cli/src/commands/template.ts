import { parseLayerMetadata } from '@img/oci-spec';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { expandValue, readStampFiles, type TemplateValue, templateData } from '../template/data.js';
import { CliError } from '../util/errors.js';
import { readInput, readJsonInput, writeFileAtomic } from '../util/files.js';
import { collect } from '../util/flags.js';

interface TemplateFlags {
  stamp?: string[];
  root?: string;
  layerSource?: string[];
  output: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function templateValue(v: unknown, name: string, path: string): TemplateValue {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  if (isRecord(v) && Object.values(v).every((x) => typeof x === 'string')) return v as Record<string, string>;
  throw new CliError(
    'IMG_CLI_INVALID_INPUT',
    `${path}: templates.${name} must be a string, a list of strings or a dict of strings`,
  );
}

/** The mediaType, digest and size of a descriptor file (what `img manifest --descriptor` writes). */
async function rootDescriptor(path: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const d = await readJsonInput(path, 'root descriptor');
  if (
    !isRecord(d) ||
    typeof d.mediaType !== 'string' ||
    typeof d.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(d.digest) ||
    !Number.isSafeInteger(d.size) ||
    (d.size as number) < 0
  ) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${path}: not a descriptor (mediaType, sha256 digest, size)`);
  }
  return { mediaType: d.mediaType, digest: d.digest, size: d.size as number };
}

/**
 * `METADATA=REGISTRY/REPOSITORY` per pulled layer: the request's `blobs` gets the registry location
 * under the digest its metadata file names (known only once the layer's metadata exists).
 */
async function layerSources(values: readonly string[], blobs: unknown): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = isRecord(blobs) ? (blobs as Record<string, unknown[]>) : {};
  for (const value of values) {
    const eq = value.lastIndexOf('=');
    const location = value.slice(eq + 1);
    const slash = location.indexOf('/');
    if (eq <= 0 || slash <= 0 || slash === location.length - 1) {
      throw new CliError('IMG_CLI_USAGE', `--layer-source ${value}: expected METADATA=REGISTRY/REPOSITORY`);
    }
    const path = value.slice(0, eq);
    const meta = parseLayerMetadata(await readInput(path, 'layer metadata'), path);
    const entry = { registry: location.slice(0, slash), repository: location.slice(slash + 1) };
    out[meta.digest] = [...(out[meta.digest] ?? []), entry];
  }
  return out;
}

/**
 * Expand a request's `templates` (Go-template strings, lists or dicts) over `build_settings` and the
 * stamp files; the output has every other top-level member of the request as it was, plus each
 * template member expanded. `tags` lose empty and repeated entries.
 */
async function runTemplate(requestPath: string, flags: TemplateFlags, io: Io): Promise<void> {
  const request = await readJsonInput(requestPath, 'request');
  if (!isRecord(request) || !isRecord(request.templates)) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${requestPath}: expected {"templates": {...}, ...}`);
  }
  const settings = request.build_settings ?? {};
  if (!isRecord(settings))
    throw new CliError('IMG_CLI_INVALID_INPUT', `${requestPath}: build_settings must be a dict`);
  const stamp = flags.stamp?.length ? await readStampFiles(flags.stamp) : undefined;
  const data = templateData({ buildSettings: settings, ...(stamp ? { stamp } : {}) });
  const { templates, build_settings: _settings, ...rest } = request;
  const out: Record<string, unknown> = { ...rest };
  if (flags.root !== undefined) out.root = await rootDescriptor(flags.root);
  if (flags.layerSource?.length) out.blobs = await layerSources(flags.layerSource, out.blobs);
  for (const [name, raw] of Object.entries(templates)) {
    // Unstamped, a stamp variable stays a template: `bazel run` then says stamping is off.
    const options = stamp ? {} : { unstamped: true, undefinedField: 'keep' as const };
    let value = expandValue(name, templateValue(raw, name, requestPath), data, options);
    if (name === 'tags' && Array.isArray(value)) value = [...new Set(value.filter((t) => t !== ''))];
    out[name] = value;
  }
  await writeFileAtomic(flags.output, `${JSON.stringify(out)}\n`);
  io.result?.({ output: flags.output });
}

export function registerTemplate(program: Command, io: Io): void {
  program
    .command('template')
    .description(
      "expand Go templates (rules_img's functions) over build settings and Bazel's workspace status files",
    )
    .argument(
      '<request.json>',
      '{"templates": {NAME: string | [strings] | {K: string}}, "build_settings": {...}, ...}',
    )
    .option(
      '--stamp <file>',
      'stable-status.txt / volatile-status.txt (repeatable); none: stamping is off',
      collect,
    )
    .option('--root <descriptor.json>', "set the request's root to this descriptor (a bes push request)")
    .option(
      '--layer-source <metadata=registry/repository>',
      "add a pulled layer's registry to the request's blobs, under the digest of its metadata (repeatable)",
      collect,
    )
    .requiredOption('--output <file>', 'where to write the request with its templates expanded')
    .action(async (request: string, flags: TemplateFlags) => runTemplate(request, flags, io));
}
