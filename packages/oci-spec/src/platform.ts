import { SpecError } from './errors.js';
import type { Platform } from './types.js';

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

const VARIANT_ORDERS: Record<string, readonly string[]> = {
  // A CPU of a later variant runs images built for earlier ones.
  arm: ['v8', 'v7', 'v6', 'v5'],
  amd64: ['v4', 'v3', 'v2', 'v1'],
};

/** Parse `os/arch[/variant]` (e.g. `linux/arm64/v8`), normalising architecture aliases. */
export function parsePlatform(text: string, where = 'platform'): Platform {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '' || /\s/.test(p))) {
    throw new SpecError(
      'IMG_INVALID_PLATFORM',
      `${where}: invalid platform ${JSON.stringify(text)} (expected os/arch[/variant], e.g. linux/amd64)`,
    );
  }
  const [os, arch, variant] = parts as [string, string, string?];
  return normalizePlatform({ os: os.toLowerCase(), architecture: arch.toLowerCase(), variant });
}

/** Canonical form: aliases resolved, arm64's implied `v8` made explicit, `arm` defaulting to v7. */
export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  let variant = p.variant || undefined;
  if (architecture === 'arm64' && !variant) variant = 'v8';
  if (architecture === 'arm' && !variant) variant = 'v7';
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  const out: { -readonly [K in keyof Platform]: Platform[K] } = { architecture, os: p.os };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']?.length) out['os.features'] = p['os.features'];
  if (variant) out.variant = variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  return [n.os, n.architecture, n.variant].filter(Boolean).join('/');
}

/** Exact equality after normalisation. */
export function platformEquals(a: Platform, b: Platform): boolean {
  return formatPlatform(a) === formatPlatform(b);
}

/**
 * How well `candidate` serves `wanted`: 0 is an exact match, a higher number is a fallback to an
 * older variant (linux/arm/v7 accepts v6 and v5 images), undefined is no match.
 */
export function platformMatchRank(wanted: Platform, candidate: Platform): number | undefined {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return undefined;
  if (w['os.version'] && c['os.version'] && w['os.version'] !== c['os.version']) return undefined;
  if ((w.variant ?? '') === (c.variant ?? '')) return 0;
  const order = VARIANT_ORDERS[w.architecture];
  if (!order) return undefined;
  const wi = order.indexOf(w.variant ?? (w.architecture === 'amd64' ? 'v1' : ''));
  const ci = order.indexOf(c.variant ?? (c.architecture === 'amd64' ? 'v1' : ''));
  if (wi < 0 || ci < 0 || ci < wi) return undefined;
  return ci - wi;
}

/**
 * Index of the entry that best serves `wanted` (exact variant first, then the nearest older
 * variant; among equals the first entry, as the image-spec says), or -1.
 */
export function selectPlatform(wanted: Platform, candidates: readonly (Platform | undefined)[]): number {
  let best = -1;
  let bestRank = Number.POSITIVE_INFINITY;
  candidates.forEach((c, i) => {
    if (!c) return;
    const rank = platformMatchRank(wanted, c);
    if (rank !== undefined && rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  });
  return best;
}

/** The platform of this Node process, as an OCI platform. */
export function hostPlatform(): Platform {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return normalizePlatform({
    os: process.platform === 'win32' ? 'windows' : process.platform,
    architecture: arch,
  });
}
