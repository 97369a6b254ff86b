import { buildIndex } from '@img/image-assembly';
import { type Descriptor, parseJson } from '@img/oci-spec';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { addImageValueOptions, readSubject } from '../template/image-value-options.js';
import { resolveImageValues } from '../template/image-values.js';
import { CliError } from '../util/errors.js';
import { readInput, writeDescriptorOutputs, writeFileAtomic } from '../util/files.js';
import { collect } from '../util/flags.js';

interface IndexFlags {
  manifestDescriptor?: string[];
  annotation?: string[];
  annotationsFile?: string;
  subject?: string;
  template?: boolean;
  buildSettings?: string;
  stamp?: string[];
  output: string;
  descriptor?: string;
  digest?: string;
}

async function runIndex(flags: IndexFlags, io: Io): Promise<void> {
  if (!flags.manifestDescriptor?.length)
    throw new CliError('IMG_CLI_USAGE', 'give at least one --manifest-descriptor');
  const descriptors: Descriptor[] = [];
  for (const path of flags.manifestDescriptor) {
    descriptors.push(
      parseJson(
        await readInput(path, '--manifest-descriptor'),
        `--manifest-descriptor ${path}`,
      ) as Descriptor,
    );
  }
  const { annotations } = await resolveImageValues(flags);
  const subject = flags.subject ? await readSubject(flags.subject) : undefined;
  const index = buildIndex(descriptors, {
    ...(annotations ? { annotations } : {}),
    ...(subject ? { subject } : {}),
  });
  await writeFileAtomic(flags.output, index.indexBytes);
  await writeDescriptorOutputs(index.descriptor, flags);
  io.out(index.descriptor.digest);
}

export function registerIndex(program: Command, io: Io): void {
  const cmd = program
    .command('index')
    .description('assemble a multi-platform image index from manifest descriptors')
    .option(
      '--manifest-descriptor <file>',
      'descriptor written by img manifest --descriptor (repeatable)',
      collect,
    )
    .requiredOption('--output <file>', 'where to write the index')
    .option('--descriptor <out>', 'where to write the index descriptor')
    .option('--digest <out>', 'where to write the index digest');
  addImageValueOptions(cmd, 'index');
  cmd.action(async (flags: IndexFlags) => runIndex(flags, io));
}
