import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  CliErrorCode,
  DeployBlobSource,
  DeployRequest,
  DeployStrategy,
  ImageSpec,
  Io,
  LoadRequest,
  PlatformImageSpec,
  PushRequest,
} from './index.js';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'CliError',
      'DEPLOY_REQUEST_SCHEMA',
      'IMAGE_SPEC_SCHEMA',
      'VERSION',
      'createProgram',
      'main',
      'processIo',
      'readDeployRequest',
      'readImageSpec',
    ]);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  CliErrorCode,
  DeployBlobSource,
  DeployRequest,
  DeployStrategy,
  ImageSpec,
  Io,
  LoadRequest,
  PlatformImageSpec,
  PushRequest,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
