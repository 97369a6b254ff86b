import type { Digest } from './digest.js';
import { MediaType } from './media-types.js';
import type { Descriptor } from './types.js';

/** The empty JSON blob `{}` and its descriptor (image-spec manifest.md "Guidance for an Empty Descriptor"). */
export const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_DESCRIPTOR: Descriptor = {
  mediaType: MediaType.OciEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' as Digest,
  size: 2,
  data: 'e30=',
};
