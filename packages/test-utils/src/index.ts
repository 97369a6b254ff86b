export {
  bazelChrootBase,
  bazelChrootProblem,
  bazelChrootRoot,
  ensureBazelChroot,
} from './bazel-chroot.js';
export type { StartBuildGridOptions, TestBuildGrid } from './buildgrid/start-buildgrid.js';
export { DEFAULT_BUILDGRID_START_TIMEOUT_MS, startBuildGrid } from './buildgrid/start-buildgrid.js';
export type { CtrOptions, StartContainerdOptions, TestContainerd } from './containerd/start-containerd.js';
export {
  DEFAULT_CONTAINERD_NAMESPACE,
  DEFAULT_CONTAINERD_START_TIMEOUT_MS,
  startContainerd,
} from './containerd/start-containerd.js';
export type { TestUtilsErrorCode } from './errors.js';
export { TestUtilsError } from './errors.js';
export type { BombPart, RawTarHeaderFields } from './fixtures/hostile.js';
export {
  paxHeader,
  paxRecord,
  rawTarHeader,
  TAR_END,
  tarFileEntry,
  tarPadding,
  withChecksum,
  writeGzipBomb,
  zstdZeroBomb,
} from './fixtures/hostile.js';
export type { TarEntry } from './fixtures/tar.js';
export { tarFile } from './fixtures/tar.js';
export type { TinyOciLayout, TinyOciLayoutOptions } from './fixtures/tiny-layout.js';
export { writeTinyOciLayout } from './fixtures/tiny-layout.js';
export type { HostileFault } from './hostile/faults.js';
export type {
  HostileFaultPlan,
  HostileRegistry,
  HostileRegistryAuth,
  HostileRegistryOptions,
  HostileRequest,
} from './hostile/hostile-registry.js';
export { startHostileRegistry } from './hostile/hostile-registry.js';
export type { SilentServer } from './hostile/silent-server.js';
export { startSilentServer } from './hostile/silent-server.js';
export type { PlainResponse } from './hostile/store.js';
export { RegistryStore } from './hostile/store.js';
export type { TlsCertificate } from './hostile/tls.js';
export { makeTlsCertificate } from './hostile/tls.js';
export { freePort, httpStatus } from './net.js';
export type { AccessLogEntry } from './registry/access-log.js';
export { blobPathParts, parseAccessLog } from './registry/access-log.js';
export { decodeJwt } from './registry/jwt.js';
export type {
  RegistryAuthInfo,
  RegistryAuthMode,
  StartRegistryOptions,
  TestRegistry,
} from './registry/start-registry.js';
export {
  DEFAULT_REGISTRY_START_TIMEOUT_MS,
  DEFAULT_REGISTRY_USERNAME,
  HTPASSWD_REALM,
  startRegistry,
  TOKEN_ISSUER,
  TOKEN_SERVICE,
} from './registry/start-registry.js';
export type { RegistryUser, ResourceAccess } from './registry/token-policy.js';
export { DEFAULT_USER_ACTIONS, grantAccess, parseScope } from './registry/token-policy.js';
export type { TokenRequestRecord, TokenServer, TokenServerOptions } from './registry/token-server.js';
export { DEFAULT_TOKEN_TTL_SECONDS, startTokenServer } from './registry/token-server.js';
export { repoRoot, toolsBinDir } from './repo.js';
export type { RunOptions, RunResult } from './run.js';
export { DEFAULT_RUN_TIMEOUT_MS, run } from './run.js';
export { snapshotTree } from './snapshot.js';
export type { TempDir } from './temp-dir.js';
export { tempDir, useTempDir } from './temp-dir.js';
export type { CiRequirementCheck, CiRequirements } from './tools.js';
export { ciRequires, findTool, isCI, isRoot, requireTool, toolAvailable } from './tools.js';
