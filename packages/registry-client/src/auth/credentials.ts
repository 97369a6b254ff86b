/**
 * What we may authenticate a registry with. Every shape comes from a real source:
 * config.json `auths` (basic / identityToken / registryToken), Docker credential helpers
 * (basic, or identityToken when the username is `<token>`), the Bazel credential-helper
 * protocol (headers) and explicit options.
 */
export type Credential =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** An OAuth2 refresh token (config.json `identitytoken`, or a helper's `<token>` user). */
  | { readonly kind: 'identityToken'; readonly token: string }
  /** A bearer token used as is (config.json `registrytoken`). */
  | { readonly kind: 'registryToken'; readonly token: string }
  /** Request headers from a Bazel credential helper; a Bearer value is an access token, never exchanged. */
  | {
      readonly kind: 'headers';
      readonly headers: Readonly<Record<string, string>>;
      readonly expiresAt?: number;
    };

/** Where a credential came from, for error messages (never the secret itself). */
export interface ResolvedCredential {
  readonly credential: Credential;
  /** e.g. `credHelpers "ecr-login" in /home/u/.docker/config.json`. */
  readonly origin: string;
}

/** Anything that finds credentials for a registry/repository (the default reads Docker/Podman config). */
export interface CredentialProvider {
  /** Undefined means "anonymous". Failures other than "not found" may throw RegistryError. */
  resolve(registry: string, repository: string | undefined): Promise<ResolvedCredential | undefined>;
}

/** The secrets inside a credential, for scrubbing error messages. */
export function credentialSecrets(c: Credential): string[] {
  switch (c.kind) {
    case 'basic':
      return [c.password, Buffer.from(`${c.username}:${c.password}`).toString('base64')];
    case 'identityToken':
    case 'registryToken':
      return [c.token];
    case 'headers':
      return Object.values(c.headers).flatMap((v) => [v, v.replace(/^\S+\s+/, '')]);
  }
}
