import { stat } from 'node:fs/promises';
import { type ImageContent, readLayout } from '@img/oci-layout';
import type { Command } from 'commander';
import { pushInputFromContent } from '../image/push-input.js';
import type { Io } from '../io.js';
import { collect } from '../util/flags.js';
import { createPushReporter } from '../util/push-progress.js';
import { addRegistryFlags, createRegistryClient, type RegistryFlags } from '../util/registry.js';
import { createWorkDir, removeWorkDir } from '../util/work-dir.js';

export interface PushFlags extends RegistryFlags {
  tag?: string[];
  json?: boolean;
}

/** Push an ImageContent to `ref`; prints `REF@sha256:...` per pushed reference. */
export async function pushContent(content: ImageContent, ref: string, flags: PushFlags, io: Io) {
  const reporter = await createPushReporter(io);
  const client = createRegistryClient(flags);
  try {
    const result = await client.pushImage(ref, pushInputFromContent(content), {
      ...(flags.tag?.length ? { tags: flags.tag } : {}),
      onProgress: (e) => reporter.onProgress(e),
    });
    reporter.stop();
    const repo = `${result.reference.registry}/${result.reference.repository}`;
    const digest = result.descriptor.digest;
    const refs = result.tags.length
      ? result.tags.map((t) => `${repo}:${t}@${digest}`)
      : [`${repo}@${digest}`];
    if (flags.json) {
      io.out(JSON.stringify({ digest: result.descriptor.digest, references: refs, ...result.summary }));
    } else {
      for (const r of refs) io.out(r);
      if (!io.quiet) {
        const s = result.summary;
        io.err(
          `blobs: ${s.blobsUploaded} uploaded, ${s.blobsSkipped} skipped, ${s.blobsMounted} mounted; ${s.bytesUploaded} bytes sent in ${s.requests} requests (${s.durationMs} ms)`,
        );
      }
    }
    return result;
  } finally {
    reporter.stop();
    await client.close();
  }
}

async function isSpecFile(source: string): Promise<boolean> {
  if (!source.endsWith('.json')) return false;
  return (await stat(source).catch(() => undefined))?.isFile() ?? false;
}

export async function runPush(source: string, ref: string, flags: PushFlags, io: Io): Promise<void> {
  if (await isSpecFile(source)) {
    const workDir = await createWorkDir('img-push-');
    try {
      // Imported here: pushing a layout needs none of the image builders (nor their start-up time).
      const { buildSpecContent } = await import('./build.js');
      const { content } = await buildSpecContent(source, workDir, io);
      await pushContent(content, ref, flags, io);
    } finally {
      await removeWorkDir(workDir);
    }
    return;
  }
  await pushContent(await readLayout(source), ref, flags, io);
}

export function registerPush(program: Command, io: Io): void {
  const cmd = program
    .command('push')
    .description(
      'push an image or index to a registry: blobs the registry has are skipped, base layers mounted',
    )
    .argument(
      '<source>',
      'oci:DIR, oci-archive:FILE, a layout path, or an image spec JSON (built on the fly)',
    )
    .argument('<reference>', 'registry/repository[:tag]')
    .option('-t, --tag <tag>', 'another tag to push (repeatable)', collect)
    .option('--json', 'print a JSON summary (blobs uploaded, skipped, mounted, bytes sent)');
  addRegistryFlags(cmd).action(async (source: string, ref: string, flags: PushFlags) => {
    await runPush(source, ref, flags, io);
  });
}
