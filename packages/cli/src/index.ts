export type {
  DeployBlobSource,
  DeployRequest,
  DeployStrategy,
  LoadRequest,
  PushRequest,
} from './deploy/request.js';
export { DEPLOY_REQUEST_SCHEMA, readDeployRequest } from './deploy/request.js';
export type { Io } from './io.js';
export { processIo } from './io.js';
export { createProgram, main, VERSION } from './main.js';
export type { ImageSpec, PlatformImageSpec } from './spec/image-spec.js';
export { readImageSpec } from './spec/image-spec.js';
export { IMAGE_SPEC_SCHEMA } from './spec/schema.js';
export type { CliErrorCode } from './util/errors.js';
export { CliError } from './util/errors.js';
