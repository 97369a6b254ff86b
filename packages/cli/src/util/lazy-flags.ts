import { type BlobLocation, type BlobSource, type Descriptor, type Digest, parseDigest } from '@img/oci-spec';
import type { RegistryClient } from '@img/registry-client';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import type { Command } from 'commander';
import type { LazyBlobPlaces } from '../image/lazy-sources.js';
import { CliError } from './errors.js';
import { collect, splitPair } from './flags.js';
import { CREDENTIAL_HELPER_ENV, createRegistryClient, type RegistryFlags } from './registry.js';

/** rules_img's variables for the remote cache, Bazel's disk cache and a cache-only credential helper. */
export const REAPI_ENDPOINT_ENV = 'IMG_REAPI_ENDPOINT';
export const REAPI_INSTANCE_NAME_ENV = 'IMG_REAPI_INSTANCE_NAME';
export const REMOTE_CACHE_CREDENTIAL_HELPER_ENV = 'IMG_CREDENTIAL_HELPER_REMOTE_CACHE';
export const DISK_CACHE_ENV = 'IMG_DISK_CACHE';

export type Strategy = 'eager' | 'lazy';

/** Flags of `img push` / `img load` choosing where blobs the destination lacks come from. */
export interface LazyFlags {
  strategy?: string;
  remoteCache?: string;
  remoteInstanceName?: string;
  remoteCacheCredentialHelper?: string;
  diskCache?: string;
  blobFile?: string[];
  blobProducer?: string[];
  /** The registry credential helper (also the cache's, unless one is given for the cache). */
  credentialHelper?: string;
}

export function addLazyFlags(cmd: Command): Command {
  return cmd
    .option(
      '--strategy <eager|lazy>',
      'eager: every blob the destination lacks comes from the source; lazy: from the source, else a --blob-file, the disk cache, the remote cache, then its registry',
      'eager',
    )
    .option(
      '--remote-cache <endpoint>',
      `lazy: Bazel's remote cache (grpc://, grpcs://, HOST:PORT, unix:); default $${REAPI_ENDPOINT_ENV}`,
    )
    .option('--remote-instance-name <name>', `lazy: its instance name; default $${REAPI_INSTANCE_NAME_ENV}`)
    .option(
      '--remote-cache-credential-helper <path>',
      `lazy: a Bazel-protocol credential helper for the cache only; default $${REMOTE_CACHE_CREDENTIAL_HELPER_ENV}, else --credential-helper`,
    )
    .option(
      '--disk-cache <dir>',
      `lazy: Bazel's disk cache (blobs at cas/XX/HEX); default $${DISK_CACHE_ENV}`,
    )
    .option(
      '--blob-file <digest=path>',
      'lazy: a file that may hold this blob, tried first (repeatable)',
      collect,
    )
    .option(
      '--blob-producer <digest=name>',
      'lazy: what made this blob (a Bazel target), named when no place has it (repeatable)',
      collect,
    );
}

export function parseStrategy(value: string | undefined): Strategy {
  if (value === undefined || value === 'eager' || value === 'lazy') return value ?? 'eager';
  throw new CliError('IMG_CLI_USAGE', `--strategy ${JSON.stringify(value)}: expected eager or lazy`);
}

function digestMap(values: readonly string[] | undefined, flag: string): Map<Digest, string> {
  const out = new Map<Digest, string>();
  for (const value of values ?? []) {
    const [digest, rest] = splitPair(value, flag);
    if (rest === '')
      throw new CliError('IMG_CLI_USAGE', `${flag} ${JSON.stringify(value)}: expected DIGEST=VALUE`);
    out.set(parseDigest(digest, flag), rest);
  }
  return out;
}

const env = (name: string): string | undefined => process.env[name] || undefined;

/** The remote cache the flags (or rules_img's variables) name, or undefined; no I/O until first used. */
export function remoteCacheFromFlags(flags: LazyFlags): { client: RemoteCache; name: string } | undefined {
  const endpoint = flags.remoteCache || env(REAPI_ENDPOINT_ENV);
  if (!endpoint) return undefined;
  const instanceName = flags.remoteInstanceName ?? env(REAPI_INSTANCE_NAME_ENV) ?? '';
  const credentialHelper =
    flags.remoteCacheCredentialHelper ||
    env(REMOTE_CACHE_CREDENTIAL_HELPER_ENV) ||
    flags.credentialHelper ||
    env(CREDENTIAL_HELPER_ENV);
  const client = connectRemoteCache(endpoint, {
    instanceName,
    ...(credentialHelper ? { credentialHelper } : {}),
  });
  return { client, name: instanceName ? `${endpoint} (instance ${instanceName})` : endpoint };
}

type RegistryBlob = (location: BlobLocation, descriptor: Descriptor) => BlobSource;

/**
 * Where a lazy push or load looks for blobs, from its flags. Registry blobs come through `registry`,
 * else through a client made when the first one is opened. close() releases what was opened here.
 */
export function lazyPlacesFromFlags(
  flags: LazyFlags & RegistryFlags,
  registry?: RegistryBlob,
): { places: LazyBlobPlaces; close(): Promise<void> } {
  const files = digestMap(flags.blobFile, '--blob-file');
  const producers = digestMap(flags.blobProducer, '--blob-producer');
  const diskCache = flags.diskCache || env(DISK_CACHE_ENV);
  const cache = remoteCacheFromFlags(flags);
  let client: RegistryClient | undefined;
  const ownRegistry: RegistryBlob = (location, descriptor) => ({
    descriptor,
    open: (options) => {
      client ??= createRegistryClient(flags);
      return client.blobSource(location, descriptor).open(options);
    },
  });
  return {
    places: {
      files,
      producers,
      registry: registry ?? ownRegistry,
      ...(diskCache ? { diskCache } : {}),
      ...(cache ? { cache } : {}),
    },
    async close() {
      cache?.client.close();
      await client?.close();
    },
  };
}
