import { systemErrorReason } from '@img/atomic-write';
import { ImgError } from '@img/oci-spec';

/** Set (to anything but 0) to print stack traces and causes of errors. */
export const DEBUG_ENV = 'IMG_DEBUG';

function debugEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env[DEBUG_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

/** A system error that escaped the places that know which file it concerns: name what Node knows. */
function systemErrorMessage(err: NodeJS.ErrnoException & { dest?: string }, reason: string): string {
  const where = err.path ? `${err.path}${err.dest ? ` -> ${err.dest}` : ''}` : err.syscall;
  return where ? `${where}: ${reason}` : reason;
}

function message(err: unknown): string {
  if (err instanceof ImgError) return err.message;
  const reason = systemErrorReason(err);
  if (reason !== undefined) return systemErrorMessage(err as NodeJS.ErrnoException, reason);
  if (err instanceof Error) {
    const text = err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
    return `${text} (set ${DEBUG_ENV}=1 for a stack trace)`;
  }
  return String(err);
}

function withCauses(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 8; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    e = e instanceof Error ? e.cause : undefined;
    if (e !== undefined) parts.push('caused by:');
  }
  return parts.join('\n');
}

/**
 * What img prints for a failed command: one line, `img: ` and a message naming the file, field or
 * address concerned, with Node's system errors (ENOSPC, EROFS, EISDIR, ...) in words. With IMG_DEBUG
 * set, the stack trace and the chain of causes follow.
 */
export function formatError(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const line = `img: ${message(err)
    .replace(/\s*\n\s*/g, '; ')
    .trim()}`;
  return debugEnabled(env) ? `${line}\n${withCauses(err)}` : line;
}

/**
 * Codes of errors in what the user typed (flags, arguments, references): img exits 2 for them, as
 * for the parse errors of the command line itself, and 1 for everything else.
 */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'IMG_CLI_USAGE',
  'IMG_REGISTRY_INVALID_REFERENCE',
  'IMG_REGISTRY_INVALID_OPTIONS',
  'IMG_INVALID_OPTIONS',
]);

/** The exit status for a failed command: 2 for a usage error, 1 otherwise. */
export function exitCodeOf(err: unknown): 1 | 2 {
  return err instanceof ImgError && USAGE_ERROR_CODES.has(err.code) ? 2 : 1;
}

/** The --json document of a failure: `{"error":{"code","message"}}` (message as the one-line form). */
export function errorDocument(err: unknown): { error: { code: string; message: string } } {
  const code = err instanceof ImgError ? err.code : 'IMG_CLI_ERROR';
  return { error: { code, message: formatError(err, {}).replace(/^img: /, '') } };
}
