/** Repository names and tags, as the distribution spec defines them. */

const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Longest repository name we accept: clients limit `host/name` to 255 characters. */
export const MAX_NAME_LENGTH = 255;

/**
 * True for a repository name of the spec's grammar. Every path component starts with [a-z0-9], so a
 * valid name never contains `.`/`..` components nor names starting with `_` (the store's own entries).
 */
export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/** True for a tag of the spec's grammar (at most 128 characters, never `.` or `..`). */
export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}
