import { FileBlobLocations, RegistryClient } from '@img/registry-client';
import type { Command } from 'commander';
import { parseIntFlag } from './flags.js';
import { skipWasmTierUpInOneShotProcess } from './wasm-tiering.js';

export interface RegistryFlags {
  insecure?: boolean;
  jobs?: string;
  credentialHelper?: string;
  /** false with --no-blob-cache. */
  blobCache?: boolean;
}

/** Environment variable naming a Bazel-protocol credential helper when --credential-helper is not given. */
export const CREDENTIAL_HELPER_ENV = 'IMG_CREDENTIAL_HELPER';

/** Flags every command that talks to registries takes. */
export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure', 'use plain HTTP and accept any TLS certificate (localhost always uses HTTP)')
    .option('--jobs <n>', 'blobs transferred in parallel (default 4)')
    .option(
      '--credential-helper <path>',
      `a Bazel-protocol credential helper (\`<path> get\`, {"uri"} in, {"headers"} out), asked before the Docker config; default $${CREDENTIAL_HELPER_ENV}`,
    )
    .option(
      '--no-blob-cache',
      'do not remember where blobs were pushed (by default a push into a new repository mounts blobs the registry holds in repositories img pushed them to before; cache in $IMG_CACHE_DIR, else ~/.cache/img)',
    );
}

/** One client per command: connections, tokens and credential lookups are shared. */
export function createRegistryClient(flags: RegistryFlags): RegistryClient {
  skipWasmTierUpInOneShotProcess();
  const helper = flags.credentialHelper || process.env[CREDENTIAL_HELPER_ENV] || undefined;
  return new RegistryClient({
    ...(helper ? { auth: { bazelCredentialHelper: helper } } : {}),
    ...(flags.blobCache === false ? {} : { blobLocations: new FileBlobLocations() }),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(flags.jobs !== undefined ? { jobs: parseIntFlag(flags.jobs, '--jobs', 1, 64) } : {}),
  });
}
