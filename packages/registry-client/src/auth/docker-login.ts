import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runHelper } from '@img/credential-helper';
import { RegistryError } from '../errors.js';
import { normalizeRegistry } from '../reference.js';
import { authFilePaths, helperServerUrl, normalizeAuthKey } from './docker-config.js';

export interface DockerLoginOptions {
  /** Environment for locating config.json and running helpers. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Where the login went: the `auths` of config.json, or a credential helper. */
export interface DockerLoginResult {
  readonly configFile: string;
  /** `file`, or the helper's name (`docker-credential-<name>`). */
  readonly store: string;
  /** The key of the entry (`https://index.docker.io/v1/` for Docker Hub, else `host[:port]`). */
  readonly key: string;
  /** For logout: false when there was nothing to remove. */
  readonly changed: boolean;
}

type ConfigDoc = Record<string, unknown> & {
  auths?: Record<string, unknown>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
};

function configError(path: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError('IMG_REGISTRY_AUTH_CONFIG', `${path}: ${why}`, cause ? { cause } : {});
}

async function readConfig(path: string): Promise<ConfigDoc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw configError(path, `cannot read: ${(err as Error).message}`, err);
  }
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw configError(path, `invalid JSON: ${(err as Error).message}`, err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw configError(path, 'must contain a JSON object');
  }
  return doc as ConfigDoc;
}

/** Written as docker does: indented, mode 0600, by rename (readers never see half a file). */
async function writeConfig(path: string, doc: ConfigDoc): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.img-${process.pid}-${Date.now()}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The helper config.json assigns to a registry: its credHelpers entry, else credsStore. */
function helperFor(doc: ConfigDoc, registry: string): string | undefined {
  const wanted = normalizeAuthKey(registry);
  for (const [key, helper] of Object.entries(doc.credHelpers ?? {})) {
    if (normalizeAuthKey(key) === wanted && typeof helper === 'string' && helper) return helper;
  }
  return typeof doc.credsStore === 'string' && doc.credsStore ? doc.credsStore : undefined;
}

async function callHelper(helper: string, action: 'store' | 'erase', input: string, env: NodeJS.ProcessEnv) {
  const executable = `docker-credential-${helper}`;
  const result = await runHelper(executable, [action], input, { env });
  if (result.spawnError || result.code !== 0) {
    const why = result.spawnError
      ? result.spawnError.code === 'ENOENT'
        ? 'not found on PATH'
        : result.spawnError.message
      : (result.stdout.trim() || result.stderr.trim()).slice(0, 300);
    throw new RegistryError(
      'IMG_REGISTRY_CREDENTIAL_HELPER',
      `credential helper ${executable} ${action}: ${why}`,
    );
  }
}

/** Entries of `auths` that name `registry`, however spelled (`https://host/v1/`, `host`). */
function matchingKeys(doc: ConfigDoc, registry: string): string[] {
  const wanted = normalizeAuthKey(registry);
  return Object.keys(doc.auths ?? {}).filter((k) => normalizeAuthKey(k) === wanted);
}

/** What both login and logout start from: config.json's path and content, the key, the helper. */
async function loginContext(registry: string, options: DockerLoginOptions) {
  const env = options.env ?? process.env;
  const path = authFilePaths(env)[0]!;
  const doc = await readConfig(path);
  const key = helperServerUrl(normalizeRegistry(registry));
  return { env, path, doc, key, helper: helperFor(doc, registry), keys: matchingKeys(doc, registry) };
}

/**
 * Save a username and password for `registry` the way `docker login` does: into the credential
 * helper config.json names for it (credHelpers, else credsStore), else as base64 `auth` under `auths`
 * in `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), keeping every other key.
 */
export async function storeDockerLogin(
  registry: string,
  username: string,
  password: string,
  options: DockerLoginOptions = {},
): Promise<DockerLoginResult> {
  const { env, path, doc, key, helper, keys } = await loginContext(registry, options);
  const auths = { ...(doc.auths ?? {}) };
  for (const k of keys) delete auths[k];
  if (helper) {
    await callHelper(
      helper,
      'store',
      JSON.stringify({ ServerURL: key, Username: username, Secret: password }),
      env,
    );
    auths[key] = {};
  } else {
    auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
  }
  await writeConfig(path, { ...doc, auths });
  return { configFile: path, store: helper ? `docker-credential-${helper}` : 'file', key, changed: true };
}

/** Remove what `docker login` saved for `registry` (the helper's entry and the `auths` entry). */
export async function eraseDockerLogin(
  registry: string,
  options: DockerLoginOptions = {},
): Promise<DockerLoginResult> {
  const { env, path, doc, key, helper, keys } = await loginContext(registry, options);
  if (helper) await callHelper(helper, 'erase', key, env);
  if (keys.length > 0) {
    const auths = { ...(doc.auths ?? {}) };
    for (const k of keys) delete auths[k];
    await writeConfig(path, { ...doc, auths });
  }
  return {
    configFile: path,
    store: helper ? `docker-credential-${helper}` : 'file',
    key,
    changed: keys.length > 0 || helper !== undefined,
  };
}
