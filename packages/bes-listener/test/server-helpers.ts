import { ImgError } from '@img/oci-spec';

export * from '../src/index.js';

/** An ImgError with a given code, as the remote cache or the committer raise them. */
export class RemoteCacheLikeError extends ImgError<string> {
  constructor(code: string) {
    super(code, `failed with ${code}`);
  }
}
