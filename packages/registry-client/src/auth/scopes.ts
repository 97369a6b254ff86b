/** `repository:<name>:pull`: read access to a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** `repository:<name>:pull,push`: the scope a push needs on its destination. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/**
 * Merge scopes, keeping first-seen order of resources (some token servers read only the first
 * scope, so callers put the push scope first) and uniting the actions of a resource.
 */
export function mergeScopes(...lists: readonly (readonly string[])[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of lists.flat()) {
    for (const one of scope.split(' ')) {
      const colon = one.lastIndexOf(':');
      if (colon <= 0) continue;
      const resource = one.slice(0, colon);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const a of one.slice(colon + 1).split(',')) if (a !== '') actions.add(a);
      byResource.set(resource, actions);
    }
  }
  return [...byResource].map(([resource, actions]) => `${resource}:${[...actions].join(',')}`);
}

/** True when `granted` covers every resource:action of `needed`. */
export function scopesCover(granted: readonly string[], needed: readonly string[]): boolean {
  const have = new Set<string>();
  for (const s of mergeScopes(granted)) {
    const colon = s.lastIndexOf(':');
    for (const a of s.slice(colon + 1).split(',')) have.add(`${s.slice(0, colon)}:${a}`);
  }
  for (const s of mergeScopes(needed)) {
    const colon = s.lastIndexOf(':');
    for (const a of s.slice(colon + 1).split(',')) {
      if (!have.has(`${s.slice(0, colon)}:${a}`) && !have.has(`${s.slice(0, colon)}:*`)) return false;
    }
  }
  return true;
}
