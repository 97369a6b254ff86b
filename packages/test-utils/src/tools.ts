import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { INSTALL_HINT, missingToolError, TestUtilsError } from './errors.js';
import { toolsBinDir } from './repo.js';

/** True when the CI environment variable says we run in CI (`CI=true`, `CI=1`, ...). */
export function isCI(): boolean {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/** True when the current process runs as root (containerd, podman need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Directories searched for tools: <repo>/.tools/bin first, then PATH, then the sbin dirs (runc lives there). */
function searchDirs(): string[] {
  const path = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  return [toolsBinDir(), ...path, '/usr/local/sbin', '/usr/sbin', '/sbin'];
}

/** Absolute path of an executable named `name`, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  if (isAbsolute(name)) return isExecutableFile(name) ? name : undefined;
  for (const dir of searchDirs()) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** True when the tool is on PATH or in <repo>/.tools/bin. */
export function toolAvailable(name: string): boolean {
  return findTool(name) !== undefined;
}

/**
 * Path of a tool the test needs. Missing: throws under CI (a failure), otherwise returns undefined so
 * the test can `it.skipIf(!tool)`.
 */
export function requireTool(name: string): string | undefined {
  const path = findTool(name);
  if (path === undefined && isCI()) throw missingToolError([name]);
  return path;
}

export interface CiRequirements {
  /** Require the process to run as root (containerd, podman). */
  root?: boolean;
}

export interface CiRequirementCheck {
  /** Tools (and `root` when required but not root) that are missing; always empty under CI. */
  missing: string[];
  /** True when the tests should be skipped locally; never true under CI (it throws instead). */
  skip: boolean;
  /** Human-readable reason, '' when nothing is missing. */
  reason: string;
  /** Absolute paths of the tools that were found, by name. */
  paths: Record<string, string>;
}

/**
 * Checks several requirements at once, for a test file's top:
 *
 *   const needs = ciRequires('docker-registry', 'skopeo');
 *   describe.skipIf(needs.skip)('push to a real registry', () => { ... });
 *
 * Under CI anything missing throws TestUtilsError (IMG_TESTUTILS_MISSING_TOOL / IMG_TESTUTILS_NOT_ROOT), so the
 * file fails instead of skipping.
 */
export function ciRequires(...args: Array<string | CiRequirements>): CiRequirementCheck {
  const tools = args.filter((a): a is string => typeof a === 'string');
  const options = args.find((a): a is CiRequirements => typeof a === 'object') ?? {};
  const missing: string[] = [];
  const paths: Record<string, string> = {};
  for (const tool of tools) {
    const path = findTool(tool);
    if (path === undefined) missing.push(tool);
    else paths[tool] = path;
  }
  if (options.root === true && !isRoot()) missing.push('root');
  if (missing.length > 0 && isCI()) {
    const tools = missing.filter((m) => m !== 'root');
    if (tools.length > 0) throw missingToolError(tools);
    throw new TestUtilsError(
      'IMG_TESTUTILS_NOT_ROOT',
      'these tests must run as root under CI=true (containerd/podman need it)',
    );
  }
  const reason = missing.length === 0 ? '' : `missing: ${missing.join(', ')} (${INSTALL_HINT})`;
  return { missing, skip: missing.length > 0, reason, paths };
}
