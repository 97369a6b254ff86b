import { isAbsolute, join } from 'node:path';
import { parseLayerMetadata } from '@img/oci-spec';
import { readInput } from '../util/files.js';
import type { LazyFlags } from '../util/lazy-flags.js';
import { type DeployRequest, resolveRequestPath } from './request.js';

/** Environment variable the image_push / image_load launcher sets: Bazel's execution root. */
export const EXECROOT_ENV = 'IMG_EXECROOT';

/** A helper path of a request: relative with a '/' is below $BUILD_WORKSPACE_DIRECTORY (`bazel run`). */
export function workspaceHelperPath(helper: string, env: NodeJS.ProcessEnv = process.env): string {
  const workspace = env.BUILD_WORKSPACE_DIRECTORY;
  return helper.includes('/') && !isAbsolute(helper) && workspace ? join(workspace, helper) : helper;
}

/**
 * The lazy strategy's flags a request gives: its remote cache, and per layer (digest from its
 * metadata) the file Bazel may have left below $IMG_EXECROOT and the target that made it.
 */
export async function lazyFlagsOf(
  request: DeployRequest,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LazyFlags> {
  const cache = request.remote_cache ?? {};
  const execroot = env[EXECROOT_ENV] || undefined;
  const blobFile: string[] = [];
  const blobProducer: string[] = [];
  for (const layer of request.layers ?? []) {
    if (!layer.file && !layer.producer) continue;
    const where = `${request.target ?? 'deploy request'}: layers: ${layer.metadata}`;
    const { digest } = parseLayerMetadata(
      await readInput(resolveRequestPath(layer.metadata, env), where),
      where,
    );
    if (layer.file && execroot) blobFile.push(`${digest}=${join(execroot, layer.file)}`);
    if (layer.producer) blobProducer.push(`${digest}=${layer.producer}`);
  }
  return {
    strategy: 'lazy',
    blobFile,
    blobProducer,
    ...(cache.endpoint ? { remoteCache: cache.endpoint } : {}),
    ...(cache.instance_name !== undefined ? { remoteInstanceName: cache.instance_name } : {}),
    ...(cache.credential_helper
      ? { remoteCacheCredentialHelper: workspaceHelperPath(cache.credential_helper, env) }
      : {}),
  };
}
