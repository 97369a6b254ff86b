import { normalizeRegistry } from '../reference.js';
import { bazelHelperGet } from './bazel-credential-helper.js';
import type { Credential, CredentialProvider, ResolvedCredential } from './credentials.js';
import {
  type AuthFile,
  authFilePaths,
  entryCredential,
  helperServerUrl,
  lookupKeys,
  readAuthFile,
} from './docker-config.js';
import { dockerHelperGet } from './docker-credential-helper.js';

export interface KeychainOptions {
  /** Environment for locating config files and running helpers. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Auth files to read instead of the default search list (see authFilePaths). */
  readonly authFiles?: readonly string[];
  /**
   * A Bazel-protocol credential helper (path or name on PATH), asked first for every registry
   * (`{"uri":"https://<registry>/v2/<repository>/"}`). Default none.
   */
  readonly bazelCredentialHelper?: string;
  /** Fixed credentials by registry host; they win over everything else. */
  readonly credentials?: Readonly<Record<string, Credential>>;
  /** Time limit for one helper run, ms. Default DEFAULT_HELPER_TIMEOUT_MS (60 s). */
  readonly helperTimeoutMs?: number;
}

/**
 * The default credential lookup, in the order Docker and Podman users expect:
 * explicit `credentials`, the Bazel helper, then each auth file (see authFilePaths) in turn:
 * `credHelpers` for the registry, `credsStore`, `auths` (`host/repo` keys before `host`).
 * A helper with no entry falls through; nothing found means anonymous.
 */
export class DockerKeychain implements CredentialProvider {
  readonly #env: NodeJS.ProcessEnv;
  readonly #options: KeychainOptions;
  #files: Promise<AuthFile[]> | undefined;
  readonly #cache = new Map<string, Promise<ResolvedCredential | undefined>>();

  constructor(options: KeychainOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#options = options;
  }

  resolve(registry: string, repository: string | undefined): Promise<ResolvedCredential | undefined> {
    const key = `${normalizeRegistry(registry)}|${repository ?? ''}`;
    let hit = this.#cache.get(key);
    if (!hit) {
      hit = this.#lookup(normalizeRegistry(registry), repository);
      this.#cache.set(key, hit);
      hit.catch(() => this.#cache.delete(key));
    }
    return hit;
  }

  #authFiles(): Promise<AuthFile[]> {
    this.#files ??= (async () => {
      const paths = this.#options.authFiles ?? authFilePaths(this.#env);
      const files = await Promise.all(paths.map((p) => readAuthFile(p)));
      return files.filter((f): f is AuthFile => f !== undefined);
    })();
    return this.#files;
  }

  async #lookup(registry: string, repository: string | undefined): Promise<ResolvedCredential | undefined> {
    const fixed = this.#options.credentials?.[registry];
    if (fixed) return { credential: fixed, origin: 'explicit credentials' };
    const timeout = this.#options.helperTimeoutMs;
    const bazel = this.#options.bazelCredentialHelper;
    if (bazel) {
      const uri = `https://${registry}/v2/${repository ? `${repository}/` : ''}`;
      const credential = await bazelHelperGet(bazel, uri, this.#env, timeout);
      if (credential) return { credential, origin: `Bazel credential helper ${bazel}` };
    }
    const keys = lookupKeys(registry, repository);
    for (const file of await this.#authFiles()) {
      const helperKey = keys.find((k) => file.credHelpers.has(k));
      if (helperKey !== undefined) {
        const helper = file.credHelpers.get(helperKey)!;
        const credential = await dockerHelperGet(helper, helperServerUrl(registry), this.#env, timeout);
        if (credential) return { credential, origin: `credHelpers "${helper}" in ${file.path}` };
      }
      if (file.credsStore) {
        const credential = await dockerHelperGet(
          file.credsStore,
          helperServerUrl(registry),
          this.#env,
          timeout,
        );
        if (credential) return { credential, origin: `credsStore "${file.credsStore}" in ${file.path}` };
      }
      for (const k of keys) {
        const entry = file.auths.get(k);
        if (!entry) continue;
        const credential = entryCredential(entry, `${file.path}: auths[${JSON.stringify(k)}]`);
        if (credential) return { credential, origin: `auths in ${file.path}` };
      }
    }
    return undefined;
  }
}
