/** Query parameters that carry no secret and help when reading an error. */
const SAFE_QUERY_KEYS = new Set([
  'digest',
  'mount',
  'from',
  'n',
  'last',
  'tag',
  'scope',
  'service',
  'artifactType',
]);

/**
 * A URL safe to show: no userinfo, and query values other than the well-known harmless ones
 * (`digest`, `mount`, `from`, `scope`...) replaced by `REDACTED` (upload `_state` tokens,
 * presigned-URL signatures).
 */
export function redactUrl(url: URL | string): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '<invalid url>';
  }
  u.username = '';
  u.password = '';
  const params = [...u.searchParams.entries()];
  if (params.length > 0) {
    const redacted = new URLSearchParams();
    for (const [k, v] of params) redacted.append(k, SAFE_QUERY_KEYS.has(k) ? v : 'REDACTED');
    u.search = redacted.toString();
  }
  return u.toString();
}

/**
 * Holds every secret the client has seen (passwords, tokens, their Basic encodings) and scrubs them
 * from text that may reach a user: error messages, response bodies quoted in errors.
 */
export class SecretScrubber {
  readonly #secrets = new Set<string>();

  add(...secrets: (string | undefined)[]): void {
    for (const s of secrets) if (s !== undefined && s.length >= 4) this.#secrets.add(s);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }
}
