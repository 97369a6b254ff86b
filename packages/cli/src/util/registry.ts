import { RegistryClient } from '@img/registry-client';
import type { Command } from 'commander';
import { parseIntFlag } from './flags.js';
import { skipWasmTierUpInOneShotProcess } from './wasm-tiering.js';

export interface RegistryFlags {
  insecure?: boolean;
  jobs?: string;
}

/** Flags every command that talks to registries takes. */
export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure', 'use plain HTTP and accept any TLS certificate (localhost always uses HTTP)')
    .option('--jobs <n>', 'blobs transferred in parallel (default 4)');
}

/** One client per command: connections, tokens and credential lookups are shared. */
export function createRegistryClient(flags: RegistryFlags): RegistryClient {
  skipWasmTierUpInOneShotProcess();
  return new RegistryClient({
    ...(flags.insecure ? { insecure: true } : {}),
    ...(flags.jobs !== undefined ? { jobs: parseIntFlag(flags.jobs, '--jobs', 1, 64) } : {}),
  });
}
