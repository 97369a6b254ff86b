import { runHelper } from '@img/credential-helper';
import { RegistryError } from '../errors.js';
import { DEFAULT_HELPER_TIMEOUT_MS } from './bazel-credential-helper.js';
import type { Credential } from './credentials.js';

/** What helpers print (on stdout, exit 1) when they hold nothing for the server. */
const NOT_FOUND_RE =
  /credentials not found|no credentials|not found in native keychain|item could not be found/i;

/**
 * The Docker credential-helper protocol (docker/docker-credential-helpers): run
 * `docker-credential-<name> get` with the server URL on stdin; stdout is
 * `{"ServerURL","Username","Secret"}`. A `<token>` username makes Secret an identity token.
 * Resolves undefined when the helper has no entry (so the caller falls back to anonymous).
 */
export async function dockerHelperGet(
  name: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = DEFAULT_HELPER_TIMEOUT_MS,
): Promise<Credential | undefined> {
  const executable = `docker-credential-${name}`;
  const result = await runHelper(executable, ['get'], serverUrl, { env, timeoutMs });
  if (result.spawnError) {
    const why = result.spawnError.code === 'ENOENT' ? 'not found on PATH' : result.spawnError.message;
    throw new RegistryError('IMG_REGISTRY_CREDENTIAL_HELPER', `credential helper ${executable}: ${why}`, {
      registry: serverUrl,
    });
  }
  if (result.code !== 0) {
    const text = (result.stdout.trim() || result.stderr.trim()).slice(0, 300);
    if (NOT_FOUND_RE.test(text)) return undefined;
    throw new RegistryError(
      'IMG_REGISTRY_CREDENTIAL_HELPER',
      `credential helper ${executable} failed for ${serverUrl} (exit ${result.code ?? 'signal'}): ${text}`,
      { registry: serverUrl },
    );
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(result.stdout) as typeof doc;
  } catch {
    throw new RegistryError(
      'IMG_REGISTRY_CREDENTIAL_HELPER',
      `credential helper ${executable} printed invalid JSON for ${serverUrl}`,
      { registry: serverUrl },
    );
  }
  const username = typeof doc.Username === 'string' ? doc.Username : '';
  const secret = typeof doc.Secret === 'string' ? doc.Secret : '';
  if (secret === '') return undefined;
  if (username === '<token>') return { kind: 'identityToken', token: secret };
  return { kind: 'basic', username, password: secret };
}
