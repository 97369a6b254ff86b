import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { findTool, run, type TempDir, tempDir } from '@img/test-utils';

export interface TestDockerd {
  /** `unix://...` for DOCKER_HOST / `docker -H`. */
  readonly host: string;
  readonly socket: string;
  readonly dir: string;
  /** Runs the docker CLI against this daemon. */
  docker(args: readonly string[], opts?: { allowFailure?: boolean }): ReturnType<typeof run>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartDockerdOptions {
  /** dockerd executable. Default: `dockerd` from PATH. */
  readonly dockerd?: string;
  /** daemon.json contents. Default `{}`. */
  readonly config?: Record<string, unknown>;
  readonly storageDriver?: string;
  /** Extra PATH entries first (e.g. a newer containerd). */
  readonly path?: readonly string[];
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * dockerd with data root, exec root, pid file and socket under a temp dir, no iptables and no
 * bridge (no host network changes); it starts its own managed containerd. Waits for `/_ping`.
 */
export async function startDockerd(opts: StartDockerdOptions = {}): Promise<TestDockerd> {
  const dockerd = opts.dockerd ?? findTool('dockerd');
  const dockerCli = findTool('docker');
  if (!dockerd || !dockerCli)
    throw new Error('dockerd/docker not installed (scripts/install-test-tools.sh installs docker.io)');
  const dir: TempDir = await tempDir('dkd-');
  const socket = dir.join('docker.sock');
  const configPath = dir.join('daemon.json');
  await writeFile(configPath, JSON.stringify(opts.config ?? {}));
  const logPath = dir.join('dockerd.log');
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      dockerd,
      [
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        `--storage-driver=${opts.storageDriver ?? 'vfs'}`,
        '--data-root',
        dir.join('data'),
        '--exec-root',
        dir.join('exec'),
        '--pidfile',
        dir.join('dockerd.pid'),
        '-H',
        `unix://${socket}`,
        '--config-file',
        configPath,
      ],
      {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, PATH: [...(opts.path ?? []), process.env.PATH ?? ''].join(':') },
      },
    );
  } finally {
    closeSync(fd);
  }
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    await unmountUnder(dir.path);
    await dir.remove();
  };
  const deadline = Date.now() + 30_000;
  while (!(await ping(socket))) {
    if (exited || Date.now() > deadline) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      await stop();
      throw new Error(`dockerd did not start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const host = `unix://${socket}`;
  return {
    host,
    socket,
    dir: dir.path,
    docker: (args, o = {}) =>
      run(dockerCli, ['-H', host, ...args], { allowFailure: o.allowFailure, timeoutMs: 120_000 }),
    log: () => readFile(logPath, 'utf8'),
    stop,
  };
}

/** Unmount whatever a daemon left mounted under `dir` (overlay snapshots, container shm), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of points) await run('umount', ['-l', point], { allowFailure: true });
}
