import { CredentialHelperError } from './errors.js';
import { type RunHelperOptions, runHelper } from './run-helper.js';

/** What a helper answered for one URI. Header names are lower-case; a header may have several values. */
export interface CredentialHeaders {
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** When the helper said these headers expire (ms since the epoch); absent when it did not say. */
  readonly expiresAt?: number;
}

export type GetCredentialHeadersOptions = RunHelperOptions;

/**
 * The Bazel credential-helper protocol (EngFlow credential-helper-spec): run `<helper> get` with
 * `{"uri": "..."}` on stdin; stdout is `{"headers": {"Name": ["value", ...]}, "expires": "RFC 3339"}`.
 * Resolves `{ headers: {} }` when the helper has no headers for the URI; throws
 * IMG_CREDENTIAL_HELPER_FAILED when it fails.
 */
export async function getCredentialHeaders(
  helper: string,
  uri: string,
  options: GetCredentialHeadersOptions = {},
): Promise<CredentialHeaders> {
  const result = await runHelper(helper, ['get'], JSON.stringify({ uri }), options);
  const fail = (why: string, cause?: unknown): never => {
    throw new CredentialHelperError(
      'IMG_CREDENTIAL_HELPER_FAILED',
      helper,
      `credential helper ${helper} for ${uri}: ${why}`,
      { cause },
    );
  };
  options.signal?.throwIfAborted();
  if (result.spawnError) {
    fail(result.spawnError.code === 'ENOENT' ? 'not found' : result.spawnError.message, result.spawnError);
  }
  if (result.timedOut) fail(`no answer within ${options.timeoutMs ?? 'the timeout'} ms`);
  if (result.code !== 0) fail(`exit ${result.code ?? 'signal'}: ${oneLine(result.stderr)}`);
  let doc: unknown;
  try {
    doc = JSON.parse(result.stdout);
  } catch (err) {
    return fail('printed invalid JSON', err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return fail('printed JSON that is not an object');
  return parseResponse(doc as Record<string, unknown>);
}

function parseResponse(doc: Record<string, unknown>): CredentialHeaders {
  const headers: Record<string, string[]> = {};
  if (typeof doc.headers === 'object' && doc.headers !== null) {
    for (const [name, value] of Object.entries(doc.headers)) {
      const values = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
      if (typeof value === 'string') values.push(value);
      if (values.length > 0) headers[name.toLowerCase()] = values;
    }
  }
  const expires = typeof doc.expires === 'string' ? Date.parse(doc.expires) : Number.NaN;
  return { headers, ...(Number.isFinite(expires) && { expiresAt: expires }) };
}

function oneLine(text: string): string {
  return text.trim().replace(/\s+/g, ' ').slice(0, 300);
}
