/** Keys of a container config (the spec's `config`) merged by name instead of replaced. */
const MERGED_BY_NAME = new Set(['env', 'labels']);

type Doc = Readonly<Record<string, unknown>>;

function mergeByName(shared: unknown, own: unknown): unknown {
  return { ...(shared as Doc), ...(own as Doc) };
}

/**
 * A platform's `config` over the top-level one: each key the platform sets replaces the shared
 * value (arrays such as entrypoint, cmd, exposedPorts and volumes whole, and healthcheck whole);
 * `env` and `labels` are merged by name, the platform's value winning. docker buildx bake merges
 * inherited targets the same way (maps by key, lists replaced).
 */
export function mergeConfig(shared: Doc | undefined, own: Doc | undefined): Doc | undefined {
  if (!shared || !own) return own ?? shared;
  const out: Record<string, unknown> = { ...shared };
  for (const [key, value] of Object.entries(own)) {
    out[key] = MERGED_BY_NAME.has(key) && shared[key] ? mergeByName(shared[key], value) : value;
  }
  return out;
}

/**
 * One platform's image fields over the top-level (shared) ones: `config` as mergeConfig says,
 * `annotations` merged by key, every other field (base, layers, configFragment, created) replaced.
 */
export function mergePlatform(shared: Doc, own: Doc): Doc {
  const out: Record<string, unknown> = { ...shared, ...own };
  const config = mergeConfig(shared.config as Doc | undefined, own.config as Doc | undefined);
  if (config) out.config = config;
  if (shared.annotations && own.annotations)
    out.annotations = mergeByName(shared.annotations, own.annotations);
  return out;
}
