import { formatPlatform, listManifests, parseJson, parsePlatform } from '@img/oci-spec';
import type { Command } from 'commander';
import { INPUT_HELP, type OpenedInput, openInput } from '../image/open-input.js';
import type { Io } from '../io.js';
import { humanSize } from '../util/human.js';
import { addRegistryFlags, type RegistryFlags } from '../util/registry.js';

interface InspectFlags extends RegistryFlags {
  json?: boolean;
  platform?: string;
}

function describe(input: OpenedInput) {
  const { graph } = input;
  const rootDoc = parseJson(graph.documents.get(graph.root.digest)!, graph.root.digest);
  const images = listManifests(graph).map((img) => {
    const config = img.config;
    return {
      digest: img.descriptor.digest,
      platform: formatPlatform(img.platform),
      manifest: img.manifest,
      config,
      layers: img.manifest.layers.map((l, i) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        diffId: config.rootfs.diff_ids[i],
        present: graph.blobs.has(l.digest),
      })),
    };
  });
  const baseInfo = 'baseInfo' in graph ? graph.baseInfo : undefined;
  return {
    reference: input.name,
    kind: input.kind,
    root: graph.root,
    document: rootDoc,
    images,
    ...(input.repoTags?.length ? { repoTags: input.repoTags } : {}),
    ...(baseInfo ? { base: baseInfo } : {}),
  };
}

function printHuman(info: ReturnType<typeof describe>, io: Io): void {
  io.out(`${info.root.mediaType} ${info.root.digest} (${info.root.size} bytes)`);
  for (const img of info.images) {
    const c = img.config.config ?? {};
    io.out(`\nimage ${img.digest}  ${img.platform}`);
    if (img.config.created) io.out(`  created     ${img.config.created}`);
    if (c.Entrypoint) io.out(`  entrypoint  ${JSON.stringify(c.Entrypoint)}`);
    if (c.Cmd) io.out(`  cmd         ${JSON.stringify(c.Cmd)}`);
    if (c.User) io.out(`  user        ${c.User}`);
    if (c.WorkingDir) io.out(`  workdir     ${c.WorkingDir}`);
    for (const e of c.Env ?? []) io.out(`  env         ${e}`);
    for (const [k, v] of Object.entries(c.Labels ?? {})) io.out(`  label       ${k}=${v}`);
    for (const [k, v] of Object.entries(img.manifest.annotations ?? {})) io.out(`  annotation  ${k}=${v}`);
    io.out('  layers:');
    for (const l of img.layers) {
      const where = l.present || info.kind === 'registry' ? '' : '  (not in layout)';
      io.out(`    ${l.digest}  ${humanSize(l.size).padStart(10)}  ${l.mediaType}${where}`);
    }
  }
}

export function registerInspect(program: Command, io: Io): void {
  const cmd = program
    .command('inspect')
    .description('print the manifest, config and layers of an image in a registry, a layout or an archive')
    .argument('<image>', INPUT_HELP)
    .option('--platform <os/arch[/variant]>', 'a registry index: only this platform')
    .option(
      '--json',
      'print {reference, kind, root, document, images[{digest, platform, manifest, config, layers}]}',
    );
  addRegistryFlags(cmd).action(async (ref: string, flags: InspectFlags) => {
    const { platform, ...registryFlags } = flags;
    const input = await openInput(ref, {
      ...registryFlags,
      ...(platform ? { platform: parsePlatform(platform, '--platform') } : {}),
    });
    try {
      const info = describe(input);
      io.result?.(info);
      if (!io.result) printHuman(info, io);
    } finally {
      await input.close();
    }
  });
}
