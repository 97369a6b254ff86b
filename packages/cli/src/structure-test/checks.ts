import type { FileContentTest, FileExistenceTest, KeyValueTest, MetadataTest } from './config.js';
import type { FsEntry, ImageFilesystem } from './filesystem.js';

/** The outcome of one check; `message` says why it failed. */
export interface CheckResult {
  readonly name: string;
  readonly pass: boolean;
  readonly message?: string;
}

interface ContainerConfig {
  Env?: string[];
  Labels?: Record<string, string>;
  Entrypoint?: string[];
  Cmd?: string[];
  ExposedPorts?: Record<string, unknown>;
  Volumes?: Record<string, unknown>;
  WorkingDir?: string;
  User?: string;
}

const ok = (name: string): CheckResult => ({ name, pass: true });
const bad = (name: string, message: string): CheckResult => ({ name, pass: false, message });

function matches(name: string, t: KeyValueTest, actual: string | undefined, what: string): CheckResult {
  if (actual === undefined) return bad(name, `${what} ${JSON.stringify(t.key)} is not set`);
  if (t.isRegex) {
    let re: RegExp;
    try {
      re = new RegExp(t.value);
    } catch (err) {
      return bad(name, `invalid regex ${JSON.stringify(t.value)}: ${(err as Error).message}`);
    }
    return re.test(actual)
      ? ok(name)
      : bad(name, `${JSON.stringify(actual)} does not match ${JSON.stringify(t.value)}`);
  }
  return actual === t.value
    ? ok(name)
    : bad(name, `${JSON.stringify(actual)}, want ${JSON.stringify(t.value)}`);
}

function sameList(name: string, want: readonly string[], actual: readonly string[] | undefined): CheckResult {
  const got = actual ?? [];
  return JSON.stringify(want) === JSON.stringify(got)
    ? ok(name)
    : bad(name, `${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

const port = (p: string) => (p.includes('/') ? p : `${p}/tcp`);

/** metadataTest against the image config, as container-structure-test checks it. */
export function checkMetadata(config: Record<string, unknown>, t: MetadataTest): CheckResult[] {
  const c = (config.config ?? {}) as ContainerConfig;
  const env = new Map<string, string>();
  for (const e of c.Env ?? []) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  const out: CheckResult[] = [];
  for (const e of t.env) out.push(matches(`metadataTest env ${e.key}`, e, env.get(e.key), 'env var'));
  for (const l of t.labels) out.push(matches(`metadataTest label ${l.key}`, l, c.Labels?.[l.key], 'label'));
  if (t.entrypoint) out.push(sameList('metadataTest entrypoint', t.entrypoint, c.Entrypoint));
  if (t.cmd) out.push(sameList('metadataTest cmd', t.cmd, c.Cmd));
  const ports = Object.keys(c.ExposedPorts ?? {});
  for (const p of t.exposedPorts) {
    const name = `metadataTest exposedPort ${p}`;
    out.push(
      ports.includes(port(p)) ? ok(name) : bad(name, `not exposed (exposed: ${ports.join(', ') || 'none'})`),
    );
  }
  for (const p of t.unexposedPorts) {
    const name = `metadataTest unexposedPort ${p}`;
    out.push(ports.includes(port(p)) ? bad(name, 'is exposed') : ok(name));
  }
  const volumes = Object.keys(c.Volumes ?? {});
  for (const v of t.volumes) {
    const name = `metadataTest volume ${v}`;
    out.push(
      volumes.includes(v) ? ok(name) : bad(name, `not a volume (volumes: ${volumes.join(', ') || 'none'})`),
    );
  }
  for (const v of t.unmountedVolumes) {
    const name = `metadataTest unmountedVolume ${v}`;
    out.push(volumes.includes(v) ? bad(name, 'is a volume') : ok(name));
  }
  if (t.workdir !== undefined) {
    const got = c.WorkingDir ?? '';
    out.push(
      got === t.workdir
        ? ok('metadataTest workdir')
        : bad('metadataTest workdir', `${JSON.stringify(got)}, want ${JSON.stringify(t.workdir)}`),
    );
  }
  if (t.user !== undefined) {
    const got = c.User ?? '';
    out.push(
      got === t.user
        ? ok('metadataTest user')
        : bad('metadataTest user', `${JSON.stringify(got)}, want ${JSON.stringify(t.user)}`),
    );
  }
  return out;
}

const TYPE_CHAR: Partial<Record<FsEntry['type'], string>> = {
  directory: 'd',
  symlink: 'L',
  char: 'c',
  block: 'D',
  fifo: 'p',
};

/** Go's os.FileMode string, which container-structure-test compares `permissions` with. */
export function modeString(entry: FsEntry): string {
  const m = entry.mode;
  const rwx = (bits: number, special: boolean, s: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? s : bits & 1 ? 'x' : '-'}`;
  let prefix = TYPE_CHAR[entry.type] ?? '-';
  if (entry.type === 'char') prefix = 'Dc';
  if (m & 0o4000) prefix = `u${prefix === '-' ? '' : prefix}`;
  if (m & 0o2000) prefix = `g${prefix === '-' ? '' : prefix}`;
  if (m & 0o1000) prefix = `t${prefix === '-' ? '' : prefix}`;
  const perms = `${rwx((m >> 6) & 7, false, '')}${rwx((m >> 3) & 7, false, '')}${rwx(m & 7, false, '')}`;
  return `${prefix}${perms}`;
}

function executableBy(mode: number, by: NonNullable<FileExistenceTest['isExecutableBy']>): boolean {
  const bits = { owner: 0o100, group: 0o010, other: 0o001, any: 0o111 }[by];
  return (mode & bits) !== 0;
}

/** fileExistenceTests against the merged filesystem (a symlink at the path itself is not followed). */
export function checkFileExistence(fs: ImageFilesystem, tests: readonly FileExistenceTest[]): CheckResult[] {
  return tests.map((t) => {
    const name = `fileExistenceTests ${t.name}`;
    const found = fs.resolve(t.path, false);
    if (!t.shouldExist) return found ? bad(name, `${t.path} exists but shouldExist is false`) : ok(name);
    if (!found) return bad(name, `${t.path} does not exist`);
    const { entry } = found;
    if (t.permissions !== undefined && modeString(entry) !== t.permissions) {
      return bad(name, `${t.path} has permissions ${modeString(entry)}, want ${t.permissions}`);
    }
    if (t.uid !== undefined && entry.uid !== t.uid)
      return bad(name, `${t.path} has uid ${entry.uid}, want ${t.uid}`);
    if (t.gid !== undefined && entry.gid !== t.gid)
      return bad(name, `${t.path} has gid ${entry.gid}, want ${t.gid}`);
    if (t.isExecutableBy !== undefined && !executableBy(entry.mode, t.isExecutableBy)) {
      return bad(name, `${t.path} (${modeString(entry)}) is not executable by ${t.isExecutableBy}`);
    }
    return ok(name);
  });
}

/** fileContentTests: the file's bytes streamed out of the layer that holds it, matched as text. */
export async function checkFileContent(
  fs: ImageFilesystem,
  tests: readonly FileContentTest[],
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const t of tests) {
    const name = `fileContentTests ${t.name}`;
    let text: string;
    try {
      text = (await fs.readFile(t.path)).toString('utf8');
    } catch (err) {
      out.push(bad(name, (err as Error).message));
      continue;
    }
    const failures: string[] = [];
    for (const pattern of t.expectedContents) {
      try {
        if (!new RegExp(pattern).test(text)) failures.push(`expected ${JSON.stringify(pattern)} not found`);
      } catch (err) {
        failures.push(`invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
      }
    }
    for (const pattern of t.excludedContents) {
      try {
        if (new RegExp(pattern).test(text)) failures.push(`excluded ${JSON.stringify(pattern)} found`);
      } catch (err) {
        failures.push(`invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
      }
    }
    out.push(failures.length ? bad(name, `${t.path}: ${failures.join('; ')}`) : ok(name));
  }
  return out;
}
