import { describe, expect, expectTypeOf, it } from 'vitest';
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
  api.CliErrorCode,
  api.DeployBlobSource,
  api.DeployRequest,
  api.DeployStrategy,
  api.ImageSpec,
  api.Io,
  api.LoadRequest,
  api.PlatformImageSpec,
  api.PushRequest,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
