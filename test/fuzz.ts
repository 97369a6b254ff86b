/** Seed of the property/fuzz suite when FUZZ_SEED is not set: runs are reproducible in CI. */
export const DEFAULT_FUZZ_SEED = 20_251_204;
/** Time budget of one property in the normal test run, in milliseconds. */
export const DEFAULT_FUZZ_BUDGET_MS = 3_000;

/** fast-check parameters (a structural subset of its `Parameters`, so this package needs no fast-check). */
export interface FuzzParameters {
  readonly seed: number;
  readonly numRuns: number;
  readonly interruptAfterTimeLimit?: number;
  readonly markInterruptAsFailure: false;
}

/**
 * Parameters for one property of the fuzz suite. By default a fixed seed, `runs` cases and a time
 * budget (DEFAULT_FUZZ_BUDGET_MS), so CI stays fast and reproducible. `FUZZ_RUNS=N` runs N cases with
 * no time budget, `FUZZ_SEED=S` picks the seed (e.g. `FUZZ_RUNS=100000 pnpm test:fuzz`); a failure
 * prints the seed and path that reproduce it.
 */
export function fuzzParameters(runs = 300, env: NodeJS.ProcessEnv = process.env): FuzzParameters {
  const seed = env.FUZZ_SEED ? Number(env.FUZZ_SEED) : DEFAULT_FUZZ_SEED;
  const requested = env.FUZZ_RUNS ? Number(env.FUZZ_RUNS) : undefined;
  if (requested !== undefined && Number.isSafeInteger(requested) && requested > 0) {
    return { seed, numRuns: requested, markInterruptAsFailure: false };
  }
  return {
    seed,
    numRuns: runs,
    interruptAfterTimeLimit: DEFAULT_FUZZ_BUDGET_MS,
    markInterruptAsFailure: false,
  };
}

/** A per-test timeout that fits the fuzz budget, or a long run when FUZZ_RUNS is set. */
export function fuzzTimeout(env: NodeJS.ProcessEnv = process.env): number {
  return env.FUZZ_RUNS ? 24 * 3600 * 1000 : 60_000;
}
