import type { PushResult } from '@img/registry-client';
import type { Command } from 'commander';
import { writeFileAtomic } from './files.js';

/** Output files for deploy tools, written once the push succeeded. */
export interface RefOutputFlags {
  /** `--image-refs FILE`: every pushed `REGISTRY/REPO[:TAG]@DIGEST`, one per line (ko's flag). */
  imageRefs?: string;
  /** `--digest-file FILE`: the pushed root's digest alone. */
  digestFile?: string;
}

export function addRefOutputFlags(cmd: Command): Command {
  return cmd
    .option('--image-refs <file>', 'write every pushed REGISTRY/REPO[:TAG]@DIGEST to FILE, one per line')
    .option('--digest-file <file>', 'write the pushed digest to FILE');
}

/** `REGISTRY/REPO:TAG@DIGEST` per pushed tag, or `REGISTRY/REPO@DIGEST` for a push by digest. */
export function pushedReferences(result: PushResult): string[] {
  const repo = `${result.reference.registry}/${result.reference.repository}`;
  const digest = result.descriptor.digest;
  return result.tags.length ? result.tags.map((t) => `${repo}:${t}@${digest}`) : [`${repo}@${digest}`];
}

/** Write the files `--image-refs` and `--digest-file` name (each atomically). */
export async function writeRefOutputs(
  flags: RefOutputFlags,
  references: readonly string[],
  digest: string,
): Promise<void> {
  if (flags.imageRefs) await writeFileAtomic(flags.imageRefs, references.map((r) => `${r}\n`).join(''));
  if (flags.digestFile) await writeFileAtomic(flags.digestFile, `${digest}\n`);
}
