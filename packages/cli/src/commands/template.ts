import type { Command } from 'commander';
import type { Io } from '../io.js';
import { expandValue, readStampFiles, type TemplateValue, templateData } from '../template/data.js';
import { CliError } from '../util/errors.js';
import { readJsonInput, writeFileAtomic } from '../util/files.js';
import { collect } from '../util/flags.js';

interface TemplateFlags {
  stamp?: string[];
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

/**
 * Expand a request's `templates` (Go-template strings, lists or dicts) over `build_settings` and the
 * stamp files; the output has every other top-level member of the request as it was, plus each
 * template member expanded. `tags` lose empty and repeated entries.
 */
async function runTemplate(requestPath: string, flags: TemplateFlags): Promise<void> {
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
  for (const [name, raw] of Object.entries(templates)) {
    // Unstamped, a stamp variable stays a template: `bazel run` then says stamping is off.
    const options = stamp ? {} : { unstamped: true, undefinedField: 'keep' as const };
    let value = expandValue(name, templateValue(raw, name, requestPath), data, options);
    if (name === 'tags' && Array.isArray(value)) value = [...new Set(value.filter((t) => t !== ''))];
    out[name] = value;
  }
  await writeFileAtomic(flags.output, `${JSON.stringify(out)}\n`);
}

export function registerTemplate(program: Command, _io: Io): void {
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
    .requiredOption('--output <file>', 'where to write the request with its templates expanded')
    .action(async (request: string, flags: TemplateFlags) => runTemplate(request, flags));
}
