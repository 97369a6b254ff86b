import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Bazel actions run img/private/img.cjs: (re)bundle the CLI from source before any test (about 1 s). */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'bundle.mjs')], {
    stdio: 'inherit',
  });
}
