import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { type Daemon, spawnDaemon, waitUntilReady } from '../daemon.js';
import { missingToolError, TestUtilsError } from '../errors.js';
import { type RunOptions, type RunResult, run } from '../run.js';
import { type TempDir, tempDir } from '../temp-dir.js';
import { findTool, isRoot } from '../tools.js';
import { shimPids, unmountAll } from './cleanup-leftovers.js';
import { containerdConfig } from './containerd-config.js';

export interface StartContainerdOptions {
  /** Namespace used by ctr() and env() when none is given. Default DEFAULT_CONTAINERD_NAMESPACE. */
  namespace?: string;
  /** Default DEFAULT_CONTAINERD_START_TIMEOUT_MS. */
  startTimeoutMs?: number;
}

export const DEFAULT_CONTAINERD_NAMESPACE = 'imgtest';
export const DEFAULT_CONTAINERD_START_TIMEOUT_MS = 20_000;

export interface CtrOptions extends Pick<RunOptions, 'input' | 'allowFailure' | 'timeoutMs' | 'cwd'> {
  /** Default: the instance's namespace. */
  namespace?: string;
}

export interface TestContainerd {
  /** gRPC unix socket path (`--address`). */
  address: string;
  ttrpcAddress: string;
  /** Default namespace for ctr()/env(). */
  namespace: string;
  dir: string;
  root: string;
  state: string;
  configPath: string;
  logPath: string;
  pid: number;
  /** A fresh namespace name (`<prefix>-<random>`), for isolating one test's images and content. */
  newNamespace(prefix?: string): string;
  /** `['--address', sock, '--namespace', ns]`, for ctr-compatible tools such as ctr-remote. */
  addressArgs(namespace?: string): string[];
  /** Environment with CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE set. */
  env(namespace?: string): NodeJS.ProcessEnv;
  /** Runs `ctr --address <sock> --namespace <ns> ...args`; throws on a non-zero exit unless allowFailure. */
  ctr(args: readonly string[], opts?: CtrOptions): Promise<RunResult>;
  log(): Promise<string>;
  /** Kills remaining tasks and shims, stops containerd, unmounts and removes the temp dir. */
  stop(): Promise<void>;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts Debian's containerd as root with root/state/sockets under a temp dir; waits until `ctr version`
 * answers.
 */
export async function startContainerd(opts: StartContainerdOptions = {}): Promise<TestContainerd> {
  const executable = findTool('containerd');
  const ctrPath = findTool('ctr');
  const missing = [executable === undefined ? 'containerd' : '', ctrPath === undefined ? 'ctr' : ''].filter(
    Boolean,
  );
  if (missing.length > 0) throw missingToolError(missing);
  if (!isRoot()) {
    throw new TestUtilsError(
      'IMG_TESTUTILS_NOT_ROOT',
      'startContainerd needs root (containerd mounts snapshots and runs runc)',
    );
  }

  const namespace = opts.namespace ?? DEFAULT_CONTAINERD_NAMESPACE;
  // Short prefix: unix socket paths are limited to 107 bytes.
  const dir: TempDir = await tempDir('ctrd-');
  const paths = {
    root: dir.join('root'),
    state: dir.join('state'),
    address: dir.join('containerd.sock'),
    ttrpcAddress: dir.join('containerd.sock.ttrpc'),
    debugAddress: dir.join('debug.sock'),
  };
  const configPath = dir.join('config.toml');
  const logPath = dir.join('containerd.log');
  let daemon: Daemon | undefined;

  const ctr = (args: readonly string[], o: CtrOptions = {}): Promise<RunResult> =>
    run(ctrPath!, ['--address', paths.address, '--namespace', o.namespace ?? namespace, ...args], {
      input: o.input,
      allowFailure: o.allowFailure,
      timeoutMs: o.timeoutMs,
      cwd: o.cwd,
    });

  const killTasks = async (): Promise<void> => {
    const namespaces = await ctr(['namespaces', 'ls', '-q'], { allowFailure: true, timeoutMs: 10_000 });
    for (const ns of namespaces.stdout.split('\n').filter((n) => n !== '')) {
      const tasks = await ctr(['tasks', 'ls', '-q'], {
        namespace: ns,
        allowFailure: true,
        timeoutMs: 10_000,
      });
      for (const id of tasks.stdout.split('\n').filter((t) => t !== '')) {
        await ctr(['tasks', 'kill', '-s', 'SIGKILL', id], {
          namespace: ns,
          allowFailure: true,
          timeoutMs: 10_000,
        });
        await ctr(['tasks', 'delete', '-f', id], { namespace: ns, allowFailure: true, timeoutMs: 10_000 });
      }
    }
  };

  const teardown = async (): Promise<void> => {
    if (daemon !== undefined && daemon.exited() === undefined) await killTasks();
    await daemon?.stop();
    for (const pid of await shimPids(paths.address)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await unmountAll(dir.path);
    await dir.remove();
  };

  try {
    await writeFile(configPath, containerdConfig(paths));
    daemon = spawnDaemon(executable!, ['--config', configPath], logPath, { cwd: dir.path });
    await waitUntilReady(
      daemon,
      'containerd',
      async () =>
        (await socketAnswers(paths.address)) && (await ctr(['version'], { allowFailure: true })).code === 0,
      opts.startTimeoutMs ?? DEFAULT_CONTAINERD_START_TIMEOUT_MS,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  const running = daemon;
  return {
    address: paths.address,
    ttrpcAddress: paths.ttrpcAddress,
    namespace,
    dir: dir.path,
    root: paths.root,
    state: paths.state,
    configPath,
    logPath,
    pid: running.pid,
    newNamespace: (prefix = 'test') => `${prefix}-${randomBytes(4).toString('hex')}`,
    addressArgs: (ns = namespace) => ['--address', paths.address, '--namespace', ns],
    env: (ns = namespace) => ({
      ...process.env,
      CONTAINERD_ADDRESS: paths.address,
      CONTAINERD_NAMESPACE: ns,
    }),
    ctr,
    log: () => running.log(),
    stop: teardown,
  };
}
