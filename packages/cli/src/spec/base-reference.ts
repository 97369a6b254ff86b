/** Marks a spec `base` as a registry reference whatever it looks like (skopeo's transport name). */
export const REGISTRY_BASE_PREFIX = 'docker://';

/**
 * Whether a spec's `base` names a registry image rather than a layout: `docker://REF`, or
 * `REGISTRY/REPO[:TAG][@DIGEST]` whose first component is a registry host (it has a `.` or a `:`, or is
 * `localhost`), as Docker tells registries from paths. `oci:`, `oci-archive:`, absolute and `./` paths,
 * and names without such a host (`base`, `out/layout`) are layouts.
 */
export function isRegistryBase(base: string): boolean {
  if (base.startsWith(REGISTRY_BASE_PREFIX)) return true;
  if (/^(oci|oci-archive):/.test(base) || /^(\/|\.\.?\/|~)/.test(base)) return false;
  const slash = base.indexOf('/');
  if (slash <= 0) return false;
  const host = base.slice(0, slash);
  return host === 'localhost' || host.includes('.') || host.includes(':') || host.startsWith('[');
}

/** The reference of a registry base, without the `docker://` marker. */
export function registryBaseReference(base: string): string {
  return base.startsWith(REGISTRY_BASE_PREFIX) ? base.slice(REGISTRY_BASE_PREFIX.length) : base;
}
