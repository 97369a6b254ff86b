import { rmSync } from 'node:fs';
import { onExit } from 'signal-exit';

const actions = new Set<() => void>();
let unhook: (() => void) | undefined;

function runAll(): void {
  // Last registered first, like deferred calls: a temp file goes before the lock that guards it.
  for (const action of [...actions].reverse()) {
    try {
      action();
    } catch {
      // Best effort: the process is going away; the other actions still run.
    }
  }
  actions.clear();
}

/**
 * Run `action` (synchronously) if the process exits, or is killed by SIGINT, SIGTERM, SIGHUP or
 * another terminating signal, before the returned function is called. A signal is re-raised after
 * the actions ran (signal-exit), so the process still dies of it: exit status 130 or 143 in a shell.
 * Actions run last-registered first. The handlers are installed only while some action is pending.
 */
export function cleanupOnExit(action: () => void): () => void {
  actions.add(action);
  unhook ??= onExit(() => {
    runAll();
  });
  return () => {
    actions.delete(action);
    if (actions.size === 0 && unhook) {
      unhook();
      unhook = undefined;
    }
  };
}

/** Remove `path` (a file, or a directory with everything in it) on exit or signal, until forgotten. */
export function removeOnExit(path: string): () => void {
  return cleanupOnExit(() => rmSync(path, { recursive: true, force: true }));
}
