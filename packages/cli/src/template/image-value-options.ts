import { type Descriptor, parseDigest, parseJson } from '@img/oci-spec';
import type { Command } from 'commander';
import { CliError } from '../util/errors.js';
import { readInput } from '../util/files.js';
import { collect } from '../util/flags.js';

/**
 * The options of `img manifest` (kind 'config') and `img index` ('index') for values that may come
 * from files and Go templates (rules_img's env_file, label_files, annotations_file, created,
 * created_timestamp, build_settings and stamping), and the subject.
 */
export function addImageValueOptions(cmd: Command, kind: 'config' | 'index'): void {
  if (kind === 'config') {
    cmd
      .option('--env <K=V>', 'environment variable (repeatable; replaces an inherited one in place)', collect)
      .option(
        '--env-file <file>',
        'environment from a key-value file (JSON object, JSON K=V list or K=V lines); --env wins',
      )
      .option('--label <K=V>', 'config label (repeatable)', collect)
      .option('--label-file <file>', 'labels from a key-value file (repeatable; wins over --label)', collect)
      .option(
        '--created <time>',
        'config created time, RFC 3339; empty omits it (default: omitted, or SOURCE_DATE_EPOCH)',
      )
      .option('--created-file <file>', 'config created time read from a file (wins over --created)');
  }
  cmd
    .option(
      '--annotation <K=V>',
      `${kind === 'config' ? 'manifest' : 'index'} annotation (repeatable)`,
      collect,
    )
    .option('--annotations-file <file>', 'annotations from a key-value file (wins over --annotation)')
    .option(
      '--subject <descriptor.json>',
      'descriptor of the image or index this one refers to (a --descriptor output)',
    )
    .option(
      '--template',
      `expand Go templates in ${kind === 'config' ? 'env, label, annotation and created' : 'annotation'} values and files`,
    )
    .option('--build-settings <file>', 'JSON object of template variables (with --template)')
    .option(
      '--stamp <file>',
      "Bazel's stable-status.txt / volatile-status.txt (repeatable, with --template)",
      collect,
    );
}

/** A descriptor file (mediaType, digest, size) as `--subject`. */
export async function readSubject(path: string): Promise<Descriptor> {
  const where = `--subject ${path}`;
  const d = parseJson(await readInput(path, '--subject'), where) as Partial<Descriptor>;
  if (typeof d?.mediaType !== 'string' || typeof d.size !== 'number' || typeof d.digest !== 'string') {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${where}: expected a descriptor with mediaType, digest and size`,
    );
  }
  parseDigest(d.digest, `${where}: digest`);
  return { mediaType: d.mediaType, digest: d.digest, size: d.size } as Descriptor;
}
