import type { ContainerConfig, ImageConfig } from '@img/oci-spec';
import { AssemblyError } from './errors.js';

/** Settings a user gives for the container config; `undefined` means "inherit". */
export interface ConfigSettings {
  /** Ordered environment; a key already inherited is replaced in place, new keys are appended. */
  readonly env?: Readonly<Record<string, string>>;
  /** Setting an entrypoint clears an inherited cmd (Docker semantics) unless `cmd` is also given. */
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  /** Merged over inherited labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Added to inherited ports; `80` means `80/tcp`. */
  readonly exposedPorts?: readonly string[];
  /** Added to inherited volumes. */
  readonly volumes?: readonly string[];
  readonly stopSignal?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Parse `K=V` entries into an ordered record, naming `where` on a malformed entry. */
export function envFromList(list: readonly string[], where: string): Record<string, string> {
  const out: Record<string, string> = {};
  list.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw new AssemblyError(
        'IMG_ASSEMBLY_INVALID_OPTION',
        `${where}[${i}]: ${JSON.stringify(entry)} is not KEY=VALUE`,
      );
    }
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  });
  return out;
}

function mergeEnv(
  current: readonly string[] | undefined,
  updates: Readonly<Record<string, string>>,
): string[] {
  const out = [...(current ?? [])];
  for (const [key, value] of Object.entries(updates)) {
    if (key === '' || key.includes('=')) {
      throw new AssemblyError(
        'IMG_ASSEMBLY_INVALID_OPTION',
        `env: invalid variable name ${JSON.stringify(key)}`,
      );
    }
    const i = out.findIndex((e) => e.slice(0, e.indexOf('=')) === key);
    if (i >= 0) out[i] = `${key}=${value}`;
    else out.push(`${key}=${value}`);
  }
  return out;
}

function normalizePort(port: string): string {
  if (!/^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.test(port)) {
    throw new AssemblyError(
      'IMG_ASSEMBLY_INVALID_OPTION',
      `exposedPorts: invalid port ${JSON.stringify(port)} (e.g. 80 or 53/udp)`,
    );
  }
  return port.includes('/') ? port : `${port}/tcp`;
}

function toSet(keys: readonly string[]): Record<string, object> {
  return Object.fromEntries(keys.map((k) => [k, {}]));
}

/** Apply user settings over an inherited container config, returning a new one. */
export function applyConfigSettings(base: ContainerConfig | undefined, s: ConfigSettings): ContainerConfig {
  const c: Mutable<ContainerConfig> = { ...(base ?? {}) };
  if (s.env) c.Env = mergeEnv(c.Env, s.env);
  if (s.entrypoint !== undefined) {
    c.Entrypoint = [...s.entrypoint];
    if (s.cmd === undefined) delete c.Cmd;
  }
  if (s.cmd !== undefined) c.Cmd = [...s.cmd];
  if (s.user !== undefined) c.User = s.user;
  if (s.workingDir !== undefined) c.WorkingDir = s.workingDir;
  if (s.labels) c.Labels = { ...(c.Labels ?? {}), ...s.labels };
  if (s.exposedPorts)
    c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...toSet(s.exposedPorts.map(normalizePort)) };
  if (s.volumes) c.Volumes = { ...(c.Volumes ?? {}), ...toSet(s.volumes) };
  if (s.stopSignal !== undefined) c.StopSignal = s.stopSignal;
  for (const k of Object.keys(c) as (keyof ContainerConfig)[]) {
    const v = c[k];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
      delete c[k];
    }
  }
  return c;
}

/**
 * Merge a config fragment (a partial image config JSON) over an inherited config: the container
 * config is merged with the same rules as user settings (env in place, labels merged, entrypoint
 * clearing an inherited cmd); ExposedPorts and Volumes of the fragment replace inherited ones;
 * other top-level members of the fragment replace inherited ones.
 */
export function mergeConfigFragment(
  base: Partial<ImageConfig>,
  fragment: Record<string, unknown>,
  where: string,
): Partial<ImageConfig> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(fragment)) {
    if (key === 'config') continue;
    if (key === 'rootfs' || key === 'history') {
      throw new AssemblyError(
        'IMG_ASSEMBLY_INVALID_OPTION',
        `${where}: ${key} cannot be set in a config fragment`,
      );
    }
    out[key] = value;
  }
  const fc = fragment.config as Record<string, unknown> | undefined;
  if (fc !== undefined) {
    if (typeof fc !== 'object' || fc === null || Array.isArray(fc)) {
      throw new AssemblyError('IMG_ASSEMBLY_INVALID_OPTION', `${where}: config must be an object`);
    }
    const inherited = (base.config ?? {}) as ContainerConfig;
    const merged: Mutable<ContainerConfig> = applyConfigSettings(inherited, {
      env: Array.isArray(fc.Env) ? envFromList(fc.Env as string[], `${where}: config.Env`) : undefined,
      entrypoint: fc.Entrypoint as string[] | undefined,
      cmd: fc.Cmd as string[] | undefined,
      labels: fc.Labels as Record<string, string> | undefined,
    });
    for (const [k, v] of Object.entries(fc)) {
      if (['Env', 'Entrypoint', 'Cmd', 'Labels'].includes(k)) continue;
      merged[k] = v;
    }
    out.config = merged;
  }
  return out as Partial<ImageConfig>;
}
