import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Longest part of the final name kept in a temp name: the whole stays under NAME_MAX (255). */
const MAX_NAME_PART = 200;

/**
 * A fresh hidden name beside `path` (`.NAME.tmp-PID-RANDOM`): the same directory, so renaming it
 * onto `path` is atomic, and the PID tells whose leftover it would be.
 */
export function tempPathBeside(path: string): string {
  const name = basename(path).slice(0, MAX_NAME_PART);
  return join(dirname(path), `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}
