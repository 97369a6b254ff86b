import { LoadError } from './errors.js';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/;

export interface ImageReference {
  /** `registry/path` without tag or digest. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Parse an image name the way Docker does: a first component with a `.` or `:` or equal to
 * `localhost` is a registry, otherwise `docker.io` is implied (and `library/` for one component).
 */
export function parseImageName(name: string, where = 'image name'): ImageReference {
  const bad = (why: string) =>
    new LoadError('IMG_LOAD_INVALID_NAME', `${where} ${JSON.stringify(name)}: ${why}`);
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad('invalid digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`invalid tag ${JSON.stringify(tag)}`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw bad(`invalid registry ${JSON.stringify(domain)}`);
  } else if (parts.length === 1) {
    parts.unshift('library');
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw bad('path components must be lowercase letters, digits and separators (., _, __, -)');
  }
  return {
    repository: `${domain}/${parts.join('/')}`,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** The fully qualified name Docker, Kubernetes and nerdctl use: `app:dev` -> `docker.io/library/app:dev`. */
export function normalizeImageName(name: string, where?: string): string {
  const ref = parseImageName(name, where);
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return `${ref.repository}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
