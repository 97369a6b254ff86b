const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;
const metadata = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { type: ['string', 'integer'] },
    uid: { type: 'integer', minimum: 0 },
    gid: { type: 'integer', minimum: 0 },
    uname: { type: 'string' },
    gname: { type: 'string' },
    mtime: { type: ['string', 'integer'] },
    paxRecords: stringMap,
  },
} as const;

const layer = {
  type: 'object',
  additionalProperties: false,
  properties: {
    files: stringMap,
    directories: stringMap,
    symlinks: stringMap,
    emptyFiles: stringList,
    whiteouts: stringList,
    opaque: stringList,
    metadata: { type: 'object', additionalProperties: metadata },
    defaultMetadata: metadata,
    createParentDirectories: { type: 'boolean' },
    compress: { enum: ['gzip', 'zstd', 'none'] },
    compressionLevel: { type: 'integer', minimum: 0, maximum: 19 },
    compressorJobs: { type: ['integer', 'string'], minimum: 1, maximum: 256, pattern: '^nproc$' },
    estargz: { type: 'boolean' },
    zstdChunked: { enum: ['containers-storage', 'stargz-snapshotter'] },
    annotations: stringMap,
    createdBy: { type: 'string' },
  },
} as const;

const config = {
  type: 'object',
  additionalProperties: false,
  properties: {
    entrypoint: stringList,
    cmd: stringList,
    env: stringMap,
    user: { type: 'string' },
    workdir: { type: 'string' },
    labels: stringMap,
    exposedPorts: { type: 'array', items: { type: ['string', 'integer'] } },
    volumes: stringList,
    stopSignal: { type: 'string' },
  },
} as const;

const imageProperties = {
  platform: { type: 'string' },
  base: { type: 'string' },
  layers: { type: 'array', items: layer },
  config,
  configFragment: { type: 'string' },
  annotations: stringMap,
  created: { type: 'string' },
} as const;

/** JSON schema (draft-07) of an image spec file for `img build`. */
export const IMAGE_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...imageProperties,
    platforms: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', additionalProperties: false, properties: imageProperties },
    },
    indexAnnotations: stringMap,
  },
} as const;
