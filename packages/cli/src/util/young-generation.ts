import { setFlagsFromString } from 'node:v8';

/**
 * V8 doubles the young generation (up to 2 x 16 MiB on Node 20, up to 2 x 64 MiB on Node 24 on a
 * large machine) whenever many objects survive a scavenge. Planning a layer of tens of thousands of
 * files does exactly that, and the young generation then stays at its maximum while the layer is
 * written. With growth off it stays at its initial size: on a copy of /usr/share, `img layer` peaks
 * 15-30 MiB lower on Node 20 and ~80 MiB lower with zstd on Node 24, for 1-3% more CPU
 * (bench/compress/README.md). Process-wide, so the bin sets it, never a library.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
