import { tmpdir } from 'node:os';
import { ensureBazelChroot } from '@img/test-utils';

/** The distro-Node test runs our CLI in the Bazel chroot: make sure the chroot sees this checkout. */
export default function setup(): void {
  ensureBazelChroot([tmpdir()]);
}
