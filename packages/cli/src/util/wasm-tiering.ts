import { setFlagsFromString } from 'node:v8';

let oneShot = false;

/** bin.ts: this process runs one command and exits (not Bazel's persistent worker). */
export function markOneShotProcess(): void {
  oneShot = true;
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 then also compiles it with its optimising
 * compiler on a background thread (~60 ms of CPU) and Node waits for that job before the process may
 * exit: a re-push that needs 30 ms of network then takes 100 ms longer. The baseline compiler's code
 * parses the few responses of a push or pull just as well, so a one-shot registry command skips the
 * tier-up. The flag is process-wide: the persistent worker keeps it off, since its next action may
 * compress with zstd's WebAssembly, which needs the optimised code. Call it after any build.
 */
export function skipWasmTierUpInOneShotProcess(): void {
  if (oneShot) setFlagsFromString('--liftoff-only');
}
