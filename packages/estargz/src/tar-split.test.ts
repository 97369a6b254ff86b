import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TAR_SPLIT_FRAME_SIZE, TarSplitBuilder } from './tar-split.js';

describe('TarSplitBuilder', () => {
  it('hands the lines to the compressor a frame at a time, as they come, and joins the frames in order', async () => {
    const frames: Buffer[] = [];
    // An identity "compressor" that finishes frames out of order: the result must keep their order.
    const builder = new TarSplitBuilder(async (bytes) => {
      frames.push(bytes);
      await sleep(frames.length % 2 ? 5 : 0);
      return [Buffer.from('<'), bytes, Buffer.from('>')];
    });
    const header = Buffer.alloc(512, 0x61);
    const files = Math.ceil((3 * TAR_SPLIT_FRAME_SIZE) / 1000);
    for (let i = 0; i < files; i++) {
      builder.segment(header);
      builder.startFile(`dir/file-${i}`, 3);
      builder.fileData(Buffer.from('abc'));
      builder.endFile();
    }
    expect(frames.length).toBeGreaterThanOrEqual(2); // compressed while the stream goes on
    builder.segment(Buffer.alloc(1024));
    const { compressed, size } = await builder.finish();
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const frame of frames.slice(0, -1)) {
      expect(frame.length).toBeGreaterThanOrEqual(TAR_SPLIT_FRAME_SIZE);
      expect(frame.length).toBeLessThan(TAR_SPLIT_FRAME_SIZE + 2048);
    }
    const lines = Buffer.concat(frames);
    expect(size).toBe(lines.length);
    expect(compressed.toString('latin1')).toBe(frames.map((f) => `<${f.toString('latin1')}>`).join(''));
    const parsed = lines
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed.map((l) => l.position)).toEqual(parsed.map((_, i) => i));
    expect(parsed.filter((l) => l.type === 1).map((l) => l.name)).toEqual(
      Array.from({ length: files }, (_, i) => `dir/file-${i}`),
    );
  });

  it('fails finish when a frame failed, without an unhandled rejection before', async () => {
    const builder = new TarSplitBuilder(async () => {
      throw new Error('worker gone');
    });
    for (let i = 0; i < 3000; i++) builder.segment(Buffer.alloc(512, 1));
    builder.startFile('x', 0);
    await sleep(10);
    await expect(builder.finish()).rejects.toThrow('worker gone');
  });
});
