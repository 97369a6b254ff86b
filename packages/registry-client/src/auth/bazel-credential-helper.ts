import { CredentialHelperError, getCredentialHeaders } from '@img/credential-helper';
import { RegistryError } from '../errors.js';
import type { Credential } from './credentials.js';

/** Default time a credential helper may take (cloud helpers call their provider's API). */
export const DEFAULT_HELPER_TIMEOUT_MS = 60_000;

/**
 * The headers a Bazel-protocol credential helper gives for `uri` (the protocol is
 * @img/credential-helper's): several values of a header are joined with ", ". Resolves undefined when
 * the helper has no headers for the URI; a failing helper is IMG_REGISTRY_CREDENTIAL_HELPER.
 */
export async function bazelHelperGet(
  helper: string,
  uri: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = DEFAULT_HELPER_TIMEOUT_MS,
): Promise<Credential | undefined> {
  let answer: Awaited<ReturnType<typeof getCredentialHeaders>>;
  try {
    answer = await getCredentialHeaders(helper, uri, { env, timeoutMs });
  } catch (err) {
    if (err instanceof CredentialHelperError)
      throw new RegistryError('IMG_REGISTRY_CREDENTIAL_HELPER', err.message, { cause: err });
    throw err;
  }
  const headers = Object.fromEntries(Object.entries(answer.headers).map(([name, v]) => [name, v.join(', ')]));
  if (Object.keys(headers).length === 0) return undefined;
  return {
    kind: 'headers',
    headers,
    ...(answer.expiresAt !== undefined && { expiresAt: answer.expiresAt }),
  };
}
