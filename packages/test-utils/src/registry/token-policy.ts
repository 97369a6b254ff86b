/** One entry of the JWT `access` claim (Docker token spec). */
export interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

/** A user of the test registry (htpasswd or token mode). */
export interface RegistryUser {
  username: string;
  password: string;
  /**
   * Actions this user is granted on repositories. Default DEFAULT_USER_ACTIONS. A user whose list holds
   * '*' also gets `registry:catalog:*`.
   */
  actions?: readonly string[];
  /** Only repositories whose name starts with this prefix (e.g. 'team-a/'). Default: every repository. */
  repositoryPrefix?: string;
}

export const DEFAULT_USER_ACTIONS: readonly string[] = ['pull', 'push', 'delete', '*'];

/** Parses `type:name:actions` (the name may itself hold ':', e.g. a host:port prefix). */
export function parseScope(scope: string): ResourceAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

/**
 * The simple policy of the test token server: a user gets the requested actions it is allowed on
 * repositories under its prefix; an anonymous client gets `pull` only when anonymousPull is set.
 */
export function grantAccess(
  requested: ResourceAccess,
  user: RegistryUser | undefined,
  anonymousPull: boolean,
): ResourceAccess {
  const allowed = allowedActions(requested, user, anonymousPull);
  return { ...requested, actions: requested.actions.filter((a) => allowed.has(a)) };
}

function allowedActions(
  requested: ResourceAccess,
  user: RegistryUser | undefined,
  anonymousPull: boolean,
): Set<string> {
  if (user === undefined) {
    return new Set(requested.type === 'repository' && anonymousPull ? ['pull'] : []);
  }
  const actions = user.actions ?? DEFAULT_USER_ACTIONS;
  if (requested.type === 'registry') {
    return new Set(requested.name === 'catalog' && actions.includes('*') ? ['*'] : []);
  }
  if (requested.type !== 'repository') return new Set();
  if (user.repositoryPrefix !== undefined && !requested.name.startsWith(user.repositoryPrefix))
    return new Set();
  return new Set(actions);
}
