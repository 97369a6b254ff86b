import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo.js';
import { isCI, isRoot } from './tools.js';

/** Where scripts/setup-bazel-chroot.sh keeps the Debian sid chroot (Bazel 7, Debian's nodejs). */
export function bazelChrootBase(): string {
  return process.env.IMG_BAZEL_CHROOT ?? '/var/cache/img-bazel-chroot';
}

/** The chroot's root directory. */
export function bazelChrootRoot(): string {
  return join(bazelChrootBase(), 'root');
}

function sameDir(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.isDirectory() && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

const HOST_CA_DIR = '/usr/local/share/ca-certificates';

/** The host's local CA certificates, which scripts/setup-bazel-chroot.sh copies into the chroot. */
function hostCaCertificates(): string[] {
  try {
    return readdirSync(HOST_CA_DIR)
      .filter((name) => name.endsWith('.crt'))
      .map((name) => join(HOST_CA_DIR, name));
  } catch {
    return [];
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

/**
 * Why the chroot cannot run the tests, or undefined when it can: the wrapper and tools exist, and the
 * repository (plus `extraDirs`) is the same directory inside the chroot as outside. The text names each
 * missing path and lists the mounts below the chroot, so a CI log says what went wrong.
 */
export function bazelChrootProblem(extraDirs: readonly string[] = []): string | undefined {
  const base = bazelChrootBase();
  const root = bazelChrootRoot();
  const problems: string[] = [];
  for (const file of [join(base, 'bin', 'bazel'), join(root, 'usr/bin/bazel'), join(root, 'usr/bin/node')]) {
    if (!existsSync(file)) problems.push(`missing ${file}`);
  }
  for (const dir of new Set([repoRoot(), ...extraDirs])) {
    if (!sameDir(dir, join(root, dir))) problems.push(`${dir} is not visible at ${join(root, dir)}`);
  }
  // Bazel's downloader inside the chroot must trust the host's local CAs (an egress proxy's).
  for (const ca of hostCaCertificates()) {
    if (!sameFile(ca, join(root, ca))) problems.push(`host CA ${ca} is not trusted inside the chroot`);
  }
  if (problems.length === 0) return undefined;
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter((line) => line.split(' ')[1]?.startsWith(`${root}/`))
      .map((line) => line.split(' ')[1])
      .join(', ');
  } catch {
    // not Linux: nothing more to say
  }
  return (
    `Bazel chroot at ${base} not usable: ${problems.join('; ')}` +
    `; mounts below it: ${mounts || 'none'}. Run: bash scripts/setup-bazel-chroot.sh`
  );
}

/**
 * Like bazelChrootProblem, but first repairs what scripts/setup-bazel-chroot.sh can repair: as root,
 * when the chroot is cached (or under CI=true, where it is required), it runs the script, which mounts
 * the repository and temp dirs again (and makes the chroot when missing). For test set-ups: the mounts
 * then exist in the tests' own mount namespace, whatever happened to those of an earlier step.
 */
export function ensureBazelChroot(extraDirs: readonly string[] = []): string | undefined {
  const problem = bazelChrootProblem(extraDirs);
  if (problem === undefined) return undefined;
  const script = join(repoRoot(), 'scripts', 'setup-bazel-chroot.sh');
  const cached = existsSync(join(bazelChrootRoot(), 'etc', 'img-bazel-chroot.stamp'));
  if (!isRoot() || !existsSync(script) || !(cached || isCI())) return problem;
  process.stderr.write(`${problem}\nrunning ${script}\n`);
  try {
    execFileSync('bash', [script], { stdio: ['ignore', process.stderr, process.stderr] });
  } catch (err) {
    return `${problem}; ${script} failed: ${(err as Error).message}`;
  }
  return bazelChrootProblem(extraDirs);
}
