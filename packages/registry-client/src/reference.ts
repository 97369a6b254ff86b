import { type Digest, isDigest } from '@img/oci-spec';
import { RegistryError } from './errors.js';

/** Registry name used for Docker Hub (`docker.io`, `registry-1.docker.io` are normalised to it). */
export const DOCKER_HUB_REGISTRY = 'index.docker.io';
/** The key Docker Hub credentials are stored under in config.json and credential helpers. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
/** Tag used when a reference names neither tag nor digest. */
export const DEFAULT_TAG = 'latest';

const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** A parsed image reference. `tag` and `digest` may both be set (`repo:tag@sha256:...`). */
export interface Reference {
  /** Registry host with optional port, normalised (`index.docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** Repository path (`library/ubuntu`, `team/app`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export interface ParseReferenceOptions {
  /**
   * Fill in `latest` when the reference has neither tag nor digest. Default true; pass false for
   * push destinations where "no tag" means "push by digest only".
   */
  readonly defaultTag?: boolean;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
// host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
const REGISTRY_RE =
  /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d{1,5})?$/;

function invalid(text: string, why: string): never {
  throw new RegistryError(
    'IMG_REGISTRY_INVALID_REFERENCE',
    `invalid image reference ${JSON.stringify(text)}: ${why}`,
  );
}

/** `docker.io` and its aliases become `index.docker.io`; other names are returned unchanged. */
export function normalizeRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB_REGISTRY : registry;
}

export function isDockerHub(registry: string): boolean {
  return normalizeRegistry(registry) === DOCKER_HUB_REGISTRY;
}

/** True when two registry names denote the same registry (after Docker Hub normalisation). */
export function sameRegistry(a: string, b: string): boolean {
  return normalizeRegistry(a).toLowerCase() === normalizeRegistry(b).toLowerCase();
}

/** Check a repository name against the distribution-spec grammar. */
export function isValidRepository(repository: string): boolean {
  return REPOSITORY_RE.test(repository) && repository.length <= 255;
}

/**
 * Parse `[registry/]repository[:tag][@digest]` with Docker's rules: the first path component is a
 * registry when it contains `.` or `:` or is `localhost`; otherwise the image is on Docker Hub
 * (`index.docker.io`), where one-component names get the `library/` prefix.
 */
export function parseReference(text: string, options: ParseReferenceOptions = {}): Reference {
  const input = text.trim();
  if (input === '') invalid(text, 'empty');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) invalid(text, `bad digest ${JSON.stringify(d)}`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let registry = DOCKER_HUB_REGISTRY;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      if (!REGISTRY_RE.test(first)) invalid(text, `bad registry ${JSON.stringify(first)}`);
      registry = normalizeRegistry(first);
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) invalid(text, `bad tag ${JSON.stringify(tag)}`);
  }
  let repository = rest;
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (!isValidRepository(repository)) {
    invalid(
      text,
      `bad repository ${JSON.stringify(repository)} (lowercase letters, digits, separators . _ __ -)`,
    );
  }
  if (tag === undefined && digest === undefined && options.defaultTag !== false) tag = DEFAULT_TAG;
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** A reference from a string or an already parsed value (validated either way). */
export function toReference(ref: string | Reference, options?: ParseReferenceOptions): Reference {
  if (typeof ref === 'string') return parseReference(ref, options);
  const registry = normalizeRegistry(ref.registry);
  if (!REGISTRY_RE.test(registry))
    invalid(formatReference(ref), `bad registry ${JSON.stringify(ref.registry)}`);
  if (!isValidRepository(ref.repository))
    invalid(formatReference(ref), `bad repository ${JSON.stringify(ref.repository)}`);
  if (ref.tag !== undefined && !TAG_RE.test(ref.tag))
    invalid(formatReference(ref), `bad tag ${JSON.stringify(ref.tag)}`);
  if (ref.digest !== undefined && !isDigest(ref.digest)) invalid(formatReference(ref), 'bad digest');
  return { ...ref, registry };
}

/** The tag or digest to put in a manifest URL: the digest when present (it pins the content). */
export function manifestReference(ref: Reference): string {
  const r = ref.digest ?? ref.tag;
  if (r === undefined) invalid(formatReference(ref), 'needs a tag or a digest');
  return r;
}
