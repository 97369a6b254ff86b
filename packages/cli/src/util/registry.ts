import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  FileBlobLocations,
  RegistryClient,
} from '@img/registry-client';
import type { Command } from 'commander';
import { parseDurationFlag, parseIntFlag } from './flags.js';
import { skipWasmTierUpInOneShotProcess } from './wasm-tiering.js';

export interface RegistryFlags {
  insecure?: boolean;
  jobs?: string;
  credentialHelper?: string;
  /** false with --no-blob-cache. */
  blobCache?: boolean;
  timeout?: string;
}

/** The longest --timeout (setTimeout's limit, about 24 days, rounded down to whole hours). */
const MAX_TIMEOUT_MS = 596 * 3_600_000;

/** Environment variable naming a Bazel-protocol credential helper when --credential-helper is not given. */
export const CREDENTIAL_HELPER_ENV = 'IMG_CREDENTIAL_HELPER';

/** Flags every command that talks to registries takes. */
export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure', 'use plain HTTP and accept any TLS certificate (localhost always uses HTTP)')
    .option('--jobs <n>', 'blobs transferred in parallel (default 4)')
    .option(
      '--timeout <duration>',
      `deadline of each pull or push (90s, 10m, 2h; 0 for none; default ${DEFAULT_DEADLINE_MS / 3_600_000}h); a registry silent for ${DEFAULT_IDLE_TIMEOUT_MS / 1000} s or a connection not made in ${DEFAULT_CONNECT_TIMEOUT_MS / 1000} s fails sooner`,
    )
    .option(
      '--credential-helper <path>',
      `a Bazel-protocol credential helper (\`<path> get\`, {"uri"} in, {"headers"} out), asked before the Docker config; default $${CREDENTIAL_HELPER_ENV}`,
    )
    .option(
      '--no-blob-cache',
      'do not remember where blobs were pushed (by default a push into a new repository mounts blobs the registry holds in repositories img pushed them to before; cache in $IMG_CACHE_DIR, else ~/.cache/img)',
    );
}

/** A loopback registry (localhost, 127.x, [::1]): a local test registry, spoken to over plain HTTP. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.split(':')[0]!;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
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
    ...(flags.timeout !== undefined
      ? {
          deadlineMs: parseDurationFlag(flags.timeout, '--timeout', {
            maxMs: MAX_TIMEOUT_MS,
            allowZero: true,
            bareSeconds: true,
          }),
        }
      : {}),
  });
}
