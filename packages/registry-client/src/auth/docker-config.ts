import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';
import { DOCKER_HUB_AUTH_KEY, DOCKER_HUB_REGISTRY, normalizeRegistry } from '../reference.js';
import type { Credential } from './credentials.js';

/** One `auths` entry of config.json / auth.json. */
export interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
}

/** A parsed Docker config.json or containers auth.json, keys normalised (see normalizeAuthKey). */
export interface AuthFile {
  readonly path: string;
  readonly auths: ReadonlyMap<string, AuthEntry>;
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore?: string;
}

/**
 * The auth files we read, in precedence order:
 * `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), `$REGISTRY_AUTH_FILE`,
 * `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`.
 */
export function authFilePaths(env: NodeJS.ProcessEnv, home = env.HOME || homedir()): string[] {
  const paths: string[] = [];
  paths.push(
    env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(home, '.docker', 'config.json'),
  );
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(home, '.config', 'containers', 'auth.json'));
  return [...new Set(paths)];
}

/**
 * A config key as `host[/path]`: scheme and a trailing `/v1/`/`/v2/` dropped, host lower-cased,
 * Docker Hub spellings (`https://index.docker.io/v1/`, `docker.io`) mapped to `index.docker.io`.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  k = k.replace(/\/+(v1|v2)?\/*$/i, '');
  const slash = k.indexOf('/');
  const host = normalizeRegistry((slash >= 0 ? k.slice(0, slash) : k).toLowerCase());
  return slash >= 0 ? `${host}${k.slice(slash)}` : host;
}

function authError(path: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError('IMG_REGISTRY_AUTH_CONFIG', `${path}: ${why}`, cause ? { cause } : {});
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read and parse an auth file; undefined when it does not exist. */
export async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw authError(path, `cannot read: ${(err as Error).message}`, err);
  }
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw authError(path, `invalid JSON: ${(err as Error).message}`, err);
  }
  if (!isObject(doc)) throw authError(path, 'must contain a JSON object');
  const auths = new Map<string, AuthEntry>();
  if (doc.auths !== undefined) {
    if (!isObject(doc.auths)) throw authError(path, '"auths" must be an object');
    for (const [key, entry] of Object.entries(doc.auths)) {
      if (!isObject(entry)) throw authError(path, `auths[${JSON.stringify(key)}] must be an object`);
      const nk = normalizeAuthKey(key);
      if (!auths.has(nk) || Object.keys(auths.get(nk)!).length === 0) auths.set(nk, entry as AuthEntry);
    }
  }
  const credHelpers = new Map<string, string>();
  if (doc.credHelpers !== undefined) {
    if (!isObject(doc.credHelpers)) throw authError(path, '"credHelpers" must be an object');
    for (const [key, helper] of Object.entries(doc.credHelpers)) {
      if (typeof helper !== 'string' || helper === '') {
        throw authError(path, `credHelpers[${JSON.stringify(key)}] must be a helper name`);
      }
      credHelpers.set(normalizeAuthKey(key), helper);
    }
  }
  if (doc.credsStore !== undefined && typeof doc.credsStore !== 'string') {
    throw authError(path, '"credsStore" must be a string');
  }
  const credsStore = typeof doc.credsStore === 'string' && doc.credsStore !== '' ? doc.credsStore : undefined;
  return { path, auths, credHelpers, ...(credsStore && { credsStore }) };
}

/** Keys to look up for an image, most specific first: `host/a/b/c`, `host/a/b`, `host/a`, `host`. */
export function lookupKeys(registry: string, repository: string | undefined): string[] {
  const host = normalizeAuthKey(registry);
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let i = parts.length; i > 0; i--) keys.push(`${host}/${parts.slice(0, i).join('/')}`);
  }
  keys.push(host);
  return keys;
}

/** The server URL handed to a Docker credential helper for a registry (Docker Hub's is special). */
export function helperServerUrl(registry: string): string {
  return normalizeRegistry(registry) === DOCKER_HUB_REGISTRY ? DOCKER_HUB_AUTH_KEY : registry;
}

/** Turn an `auths` entry into a credential; undefined for an empty entry (`{}`, secret in a store). */
export function entryCredential(entry: AuthEntry, where: string): Credential | undefined {
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '') {
    return { kind: 'registryToken', token: entry.registrytoken };
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return { kind: 'identityToken', token: entry.identitytoken };
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw authError(where, '"auth" must be base64 of "username:password"');
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { kind: 'basic', username: entry.username, password: entry.password };
  }
  return undefined;
}
