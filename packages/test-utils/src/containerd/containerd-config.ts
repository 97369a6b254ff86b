export interface ContainerdPaths {
  root: string;
  state: string;
  address: string;
  ttrpcAddress: string;
  debugAddress: string;
}

/**
 * containerd 1.6 config (version 2) with every path under the test's temp dir, so it never touches
 * /var/lib/containerd or /run/containerd. The CRI plugin is disabled: the tests use content, images,
 * leases, snapshots and tasks only, and CRI adds start-up work and CNI warnings.
 */
export function containerdConfig(paths: ContainerdPaths): string {
  const q = (s: string) => JSON.stringify(s); // TOML basic strings accept JSON string escapes
  return [
    'version = 2',
    `root = ${q(paths.root)}`,
    `state = ${q(paths.state)}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '',
    '[grpc]',
    `  address = ${q(paths.address)}`,
    '',
    '[ttrpc]',
    `  address = ${q(paths.ttrpcAddress)}`,
    '',
    '[debug]',
    `  address = ${q(paths.debugAddress)}`,
    '',
    '[metrics]',
    '  address = ""',
    '',
  ].join('\n');
}
