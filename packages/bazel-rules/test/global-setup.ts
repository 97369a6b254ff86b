import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBazelChroot } from '@img/test-utils';

/**
 * Bazel actions run img/private/img.cjs: (re)bundle the CLI from source before any test (about 1 s).
 * Then make sure the Bazel chroot sees this checkout (remounting it if needed); the test files report
 * what is still wrong.
 */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'bundle.mjs')], {
    stdio: 'inherit',
  });
  ensureBazelChroot([tmpdir()]);
}
