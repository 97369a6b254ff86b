import { RegistryError } from '../errors.js';
import type { Credential } from './credentials.js';
import { runHelper } from './run-helper.js';

/**
 * The Bazel credential-helper protocol (EngFlow credential-helper-spec): run `<helper> get` with
 * `{"uri": "..."}` on stdin; stdout is `{"headers": {"Name": ["value", ...]}, "expires": "RFC 3339"}`.
 * Resolves undefined when the helper returns no headers for the URI.
 */
export async function bazelHelperGet(
  helper: string,
  uri: string,
  env: NodeJS.ProcessEnv,
  timeoutMs?: number,
): Promise<Credential | undefined> {
  const result = await runHelper(helper, ['get'], JSON.stringify({ uri }), env, timeoutMs);
  const fail = (why: string): never => {
    throw new RegistryError(
      'IMG_REGISTRY_CREDENTIAL_HELPER',
      `credential helper ${helper} for ${uri}: ${why}`,
    );
  };
  if (result.spawnError) {
    fail(result.spawnError.code === 'ENOENT' ? 'not found' : result.spawnError.message);
  }
  if (result.code !== 0) fail(`exit ${result.code ?? 'signal'}: ${result.stderr.trim().slice(0, 300)}`);
  let doc: { headers?: unknown; expires?: unknown };
  try {
    doc = JSON.parse(result.stdout) as typeof doc;
  } catch {
    return fail('printed invalid JSON');
  }
  const headers: Record<string, string> = {};
  if (typeof doc.headers === 'object' && doc.headers !== null) {
    for (const [name, value] of Object.entries(doc.headers)) {
      const values = Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
      if (typeof value === 'string') values.push(value);
      if (values.length > 0) headers[name.toLowerCase()] = values.join(', ');
    }
  }
  if (Object.keys(headers).length === 0) return undefined;
  const expires = typeof doc.expires === 'string' ? Date.parse(doc.expires) : Number.NaN;
  return { kind: 'headers', headers, ...(Number.isFinite(expires) && { expiresAt: expires }) };
}
