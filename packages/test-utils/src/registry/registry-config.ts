export interface RegistryConfigInput {
  port: number;
  storageDir: string;
  deleteEnabled: boolean;
  readOnly: boolean;
  htpasswd?: { realm: string; path: string };
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

/**
 * distribution's config.yml. YAML is a superset of JSON, so we write JSON: no quoting pitfalls.
 * Access logs (Apache combined format) go to stdout, the rest to stderr; both end in the log file.
 */
export function registryConfig(input: RegistryConfigInput): string {
  const auth: Record<string, unknown> = {};
  if (input.htpasswd !== undefined) auth.htpasswd = input.htpasswd;
  if (input.token !== undefined) {
    auth.token = {
      realm: input.token.realm,
      service: input.token.service,
      issuer: input.token.issuer,
      rootcertbundle: input.token.rootCertBundle,
    };
  }
  const config = {
    version: '0.1',
    log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: input.storageDir },
      delete: { enabled: input.deleteEnabled },
      maintenance: {
        uploadpurging: { enabled: false },
        readonly: { enabled: input.readOnly },
      },
    },
    http: { addr: `127.0.0.1:${input.port}`, secret: 'img-test-registry-http-secret' },
    ...(Object.keys(auth).length > 0 ? { auth } : {}),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
