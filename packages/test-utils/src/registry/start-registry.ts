import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { type Daemon, spawnDaemon, waitUntilReady } from '../daemon.js';
import { missingToolError } from '../errors.js';
import { freePort, httpStatus } from '../net.js';
import { run } from '../run.js';
import { type TempDir, tempDir } from '../temp-dir.js';
import { findTool } from '../tools.js';
import { type AccessLogEntry, blobPathParts, parseAccessLog } from './access-log.js';
import { registryConfig } from './registry-config.js';
import { makeTokenSigningKey } from './token-keys.js';
import type { RegistryUser } from './token-policy.js';
import { startTokenServer, type TokenRequestRecord, type TokenServer } from './token-server.js';

export type RegistryAuthMode = 'none' | 'htpasswd' | 'token';

export interface StartRegistryOptions {
  /** Default 'none'. */
  auth?: RegistryAuthMode;
  /** Users for htpasswd/token modes. Default: one user DEFAULT_REGISTRY_USERNAME with a random password. */
  users?: readonly RegistryUser[];
  /** Token mode: anonymous clients may pull. Default false. */
  anonymousPull?: boolean;
  /** Token mode: token lifetime in seconds. Default 300. */
  tokenTtlSeconds?: number;
  /** storage.delete.enabled. Default true. */
  deleteEnabled?: boolean;
  /** storage.maintenance.readonly. Default false. */
  readOnly?: boolean;
  /** Default DEFAULT_REGISTRY_START_TIMEOUT_MS. */
  startTimeoutMs?: number;
}

export const DEFAULT_REGISTRY_USERNAME = 'imgtest';
export const DEFAULT_REGISTRY_START_TIMEOUT_MS = 20_000;
export const TOKEN_SERVICE = 'img-test-registry';
export const TOKEN_ISSUER = 'img-test-token-issuer';
export const HTPASSWD_REALM = 'img-test-registry';

export interface RegistryAuthInfo {
  mode: RegistryAuthMode;
  users: readonly RegistryUser[];
  /** First user's name and password ('' in mode 'none'). */
  username: string;
  password: string;
  /** `user:password` of the first user, for skopeo --creds / crane auth ('' in mode 'none'). */
  creds: string;
  /** htpasswd: the Basic realm; token: the token endpoint URL. */
  realm?: string;
  /** Token mode: the `service` and `issuer` distribution expects. */
  service?: string;
  issuer?: string;
  /** Token mode: the requests the token server answered (no credentials in them). */
  tokenRequests(): TokenRequestRecord[];
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry host as image references use it. */
  url: string;
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT`. */
  baseUrl: string;
  auth: RegistryAuthInfo;
  /** Temp dir holding config, storage and log; removed by stop(). */
  dir: string;
  storageDir: string;
  configPath: string;
  logPath: string;
  pid: number;
  /** The whole registry log so far (application log and access log). */
  log(): Promise<string>;
  /** Parsed access-log entries so far, oldest first. */
  requests(): Promise<AccessLogEntry[]>;
  /** Successful blob GETs (layer/config downloads), optionally for one digest only. */
  blobGets(digest?: string): Promise<AccessLogEntry[]>;
  /** Kills the registry (and token server) and removes the temp dir. */
  stop(): Promise<void>;
}

function defaultUsers(): RegistryUser[] {
  return [{ username: DEFAULT_REGISTRY_USERNAME, password: randomBytes(12).toString('hex') }];
}

async function writeHtpasswd(path: string, users: readonly RegistryUser[]): Promise<void> {
  const lines: string[] = [];
  for (const user of users) {
    const { stdout } = await run('htpasswd', ['-Bbn', user.username, user.password], {
      redact: [user.password],
    });
    lines.push(stdout.trim());
  }
  await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function registryEnv(): NodeJS.ProcessEnv {
  // REGISTRY_* variables override config.yml entries; keep the test config authoritative.
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
}

/**
 * Starts Debian's `docker-registry serve` (distribution 2.8) on 127.0.0.1 with a free port, storage and
 * log under a temp dir, delete enabled; waits until /v2/ answers.
 */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const executable = findTool('docker-registry');
  if (executable === undefined) throw missingToolError(['docker-registry']);
  const mode = opts.auth ?? 'none';
  const users = opts.users ?? defaultUsers();
  if (mode !== 'none' && users.length === 0)
    throw new TypeError(`startRegistry: auth '${mode}' needs at least one user`);

  const dir: TempDir = await tempDir('registry-');
  let tokenServer: TokenServer | undefined;
  let daemon: Daemon | undefined;
  try {
    const storageDir = dir.join('storage');
    const configPath = dir.join('config.yml');
    const logPath = dir.join('registry.log');
    let htpasswd: { realm: string; path: string } | undefined;
    let token: { realm: string; service: string; issuer: string; rootCertBundle: string } | undefined;
    if (mode === 'htpasswd') {
      htpasswd = { realm: HTPASSWD_REALM, path: dir.join('htpasswd') };
      await writeHtpasswd(htpasswd.path, users);
    } else if (mode === 'token') {
      const key = await makeTokenSigningKey(dir.path, TOKEN_ISSUER);
      tokenServer = await startTokenServer({
        key,
        issuer: TOKEN_ISSUER,
        service: TOKEN_SERVICE,
        users,
        anonymousPull: opts.anonymousPull ?? false,
        ttlSeconds: opts.tokenTtlSeconds,
      });
      token = {
        realm: tokenServer.realm,
        service: TOKEN_SERVICE,
        issuer: TOKEN_ISSUER,
        rootCertBundle: key.certificatePath,
      };
    }

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const config = registryConfig({
        port,
        storageDir,
        deleteEnabled: opts.deleteEnabled ?? true,
        readOnly: opts.readOnly ?? false,
        htpasswd,
        token,
      });
      await writeFile(configPath, config);
      daemon = spawnDaemon(executable, ['serve', configPath], logPath, { cwd: dir.path, env: registryEnv() });
      try {
        const url = `http://127.0.0.1:${port}/v2/`;
        await waitUntilReady(
          daemon,
          'docker-registry',
          async () => (await httpStatus(url)) !== undefined,
          opts.startTimeoutMs ?? DEFAULT_REGISTRY_START_TIMEOUT_MS,
        );
        break;
      } catch (error) {
        // Another process may have taken the port between freePort() and the bind: try another one.
        const clash = /address already in use/.test(String(error));
        if (!clash || attempt >= 3) throw error;
      }
    }

    const first = users[0];
    const secured = mode !== 'none' && first !== undefined;
    const running = daemon!;
    const tokens = tokenServer;
    const log = () => running.log();
    const requests = async () => parseAccessLog(await log());
    return {
      url: `127.0.0.1:${port}`,
      host: '127.0.0.1',
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      auth: {
        mode,
        users: mode === 'none' ? [] : users,
        username: secured ? first.username : '',
        password: secured ? first.password : '',
        creds: secured ? `${first.username}:${first.password}` : '',
        realm: htpasswd?.realm ?? token?.realm,
        service: token?.service,
        issuer: token?.issuer,
        tokenRequests: () => tokens?.requests() ?? [],
      },
      dir: dir.path,
      storageDir,
      configPath,
      logPath,
      pid: running.pid,
      log,
      requests,
      async blobGets(digest?: string) {
        return (await requests()).filter((e) => {
          if (e.method !== 'GET' || e.status >= 400) return false;
          const parts = blobPathParts(e.path);
          return parts !== undefined && (digest === undefined || parts.digest === digest);
        });
      },
      async stop() {
        await running.stop();
        await tokens?.stop();
        await dir.remove();
      },
    };
  } catch (error) {
    await daemon?.stop(1_000);
    await tokenServer?.stop();
    await dir.remove();
    throw error;
  }
}
