import { readLayout } from '@img/oci-layout';
import { formatPlatform, listManifests, parseJson, platformOfConfig } from '@img/oci-spec';
import type { Command } from 'commander';
import type { Io } from '../io.js';

async function inspectLayout(ref: string) {
  const layout = await readLayout(ref);
  const rootDoc = parseJson(layout.documents.get(layout.root.digest)!, layout.root.digest);
  const images = listManifests(layout).map((img) => {
    const config = img.config;
    return {
      digest: img.descriptor.digest,
      platform: formatPlatform(platformOfConfig(config)),
      manifest: img.manifest,
      config,
      layers: img.manifest.layers.map((l, i) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        diffId: config.rootfs.diff_ids[i],
        present: layout.blobs.has(l.digest),
      })),
    };
  });
  return {
    reference: ref,
    root: layout.root,
    document: rootDoc,
    images,
    ...(layout.baseInfo ? { base: layout.baseInfo } : {}),
  };
}

export function registerInspect(program: Command, io: Io): void {
  program
    .command('inspect')
    .description('print the manifest, config and layers of a layout')
    .argument('<layout>', 'oci:DIR, oci-archive:FILE or a path')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, flags: { json?: boolean }) => {
      const info = await inspectLayout(ref);
      if (flags.json) {
        io.out(JSON.stringify(info, null, 2));
        return;
      }
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
        for (const [k, v] of Object.entries(img.manifest.annotations ?? {}))
          io.out(`  annotation  ${k}=${v}`);
        io.out('  layers:');
        for (const l of img.layers) {
          io.out(
            `    ${l.digest}  ${String(l.size).padStart(12)}  ${l.mediaType}${l.present ? '' : '  (not in layout)'}`,
          );
        }
      }
    });
}
