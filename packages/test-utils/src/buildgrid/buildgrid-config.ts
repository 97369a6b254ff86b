export interface BuildGridConfigInput {
  /** `127.0.0.1:PORT` or `unix:/path`. */
  readonly address: string;
  /** Storage root of each instance, in the order of instanceNames (each instance its own CAS). */
  readonly storageDirs: readonly string[];
  readonly instanceNames: readonly string[];
  /** HS256 JWT secret file: every call needs `authorization: Bearer <jwt with exp>`. */
  readonly jwtSecretPath?: string;
  /** TLS server key and certificate (PEM files); plaintext when absent. */
  readonly tls?: { readonly keyPath: string; readonly certPath: string };
  /** In-memory LRU storage of this many bytes instead of disk storage (evicts least recently used). */
  readonly lruStorageBytes?: number;
}

/** BuildGrid 0.4.4 configuration: CAS + ByteStream + ActionCache on a disk storage, no execution. */
export function buildGridConfig(input: BuildGridConfigInput): string {
  const q = (s: string) => JSON.stringify(s);
  const channel = input.tls
    ? [
        '  - !channel',
        `    address: ${q(input.address)}`,
        '    insecure-mode: false',
        '    credentials:',
        `      tls-server-key: ${q(input.tls.keyPath)}`,
        `      tls-server-cert: ${q(input.tls.certPath)}`,
      ]
    : ['  - !channel', `    address: ${q(input.address)}`, '    insecure-mode: true'];
  const authorization = input.jwtSecretPath
    ? ['authorization:', '  method: jwt', `  secret: ${q(input.jwtSecretPath)}`, '  algorithm: hs256']
    : ['authorization:', '  method: none'];
  const instances = input.instanceNames.flatMap((name, i) => [
    `  - name: ${q(name)}`,
    '    services:',
    '      - !cas',
    `        storage: *cas-storage-${i}`,
    '      - !bytestream',
    `        storage: *cas-storage-${i}`,
    // 0.4.4's streaming read path ignores read_limit (DATA_LOSS "Blob incomplete").
    '        stream-blob: false',
    '      - !action-cache',
    `        cache: *ac-${i}`,
  ]);
  const storages = input.storageDirs.flatMap((dir, i) =>
    input.lruStorageBytes !== undefined
      ? [`  - !lru-storage &cas-storage-${i}`, `    size: ${q(String(input.lruStorageBytes))}`]
      : [`  - !disk-storage &cas-storage-${i}`, `    path: ${q(dir)}`],
  );
  const caches = input.storageDirs.flatMap((_, i) => [
    `  - !lru-action-cache &ac-${i}`,
    `    storage: *cas-storage-${i}`,
    '    max-cached-refs: 10000',
    '    allow-updates: true',
    '    cache-failed-actions: true',
  ]);
  return [
    'server:',
    ...channel,
    ...authorization,
    'storages:',
    ...storages,
    'caches:',
    ...caches,
    'instances:',
    ...instances,
    'thread-pool-size: 10',
    '',
  ].join('\n');
}
