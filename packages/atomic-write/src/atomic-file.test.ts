import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { AtomicFile, writeFileAtomic } from './atomic-file.js';
import { OutputError, outputError, systemErrorReason } from './errors.js';
import { makeDirectory } from './make-directory.js';
import { tempPathBeside } from './temp-path.js';

const tmp = useTempDir('atomic-write-');

describe('writeFileAtomic', () => {
  it('replaces a file as a whole and leaves no temp file', async () => {
    const dir = tmp.join('replace');
    await mkdir(dir);
    await writeFile(`${dir}/out`, 'old');
    await writeFileAtomic(`${dir}/out`, Readable.from([Buffer.from('new '), Buffer.from('bytes')]));
    expect(await readFile(`${dir}/out`, 'utf8')).toBe('new bytes');
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('keeps the old file and removes the temp file when the stream fails', async () => {
    const dir = tmp.join('fail');
    await mkdir(dir);
    await writeFile(`${dir}/out`, 'old');
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('source broke');
    }
    await expect(writeFileAtomic(`${dir}/out`, failing())).rejects.toThrow('source broke');
    expect(await readFile(`${dir}/out`, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('names the output, not the temp file, when the target is a directory', async () => {
    const dir = tmp.join('isdir');
    await mkdir(`${dir}/out`, { recursive: true });
    const err = await writeFileAtomic(`${dir}/out`, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as OutputError).code).toBe('IMG_OUTPUT_WRITE_FAILED');
    expect((err as Error).message).toBe(`${dir}/out: cannot write: is a directory (EISDIR)`);
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('destroys a stream it cannot write anywhere', async () => {
    const source = Readable.from([Buffer.from('x')]);
    await expect(writeFileAtomic(tmp.join('no/such/dir/out'), source)).rejects.toThrow(
      /no\/such\/dir\/out: cannot write: no such file or directory \(ENOENT\)/,
    );
    expect(source.destroyed).toBe(true);
  });
});

describe('AtomicFile', () => {
  it('shows nothing under the final name before commit, and nothing at all after abort', async () => {
    const dir = tmp.join('abort');
    await mkdir(dir);
    const file = await AtomicFile.open(`${dir}/blob`);
    await file.write(Buffer.from('abc'));
    expect(await readdir(dir)).toEqual([file.tempPath.slice(dir.length + 1)]);
    await file.abort();
    await file.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('errors', () => {
  it('maps system errors to one line and leaves other errors alone', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(systemErrorReason(enospc)).toBe('no space left on device (ENOSPC)');
    const odd = Object.assign(new Error("ESTALE: stale file handle, open '/x'"), { code: 'ESTALE' });
    expect(systemErrorReason(odd)).toBe('stale file handle (ESTALE)');
    const plain = new RangeError('bad');
    expect(systemErrorReason(plain)).toBeUndefined();
    expect(outputError(plain, '/x')).toBe(plain);
    const mapped = outputError(enospc, '/out/layer.tgz') as OutputError;
    expect(mapped.message).toBe('/out/layer.tgz: cannot write: no space left on device (ENOSPC)');
    expect(mapped.cause).toBe(enospc);
    expect(mapped.name).toBe('OutputError');
  });

  it('keeps temp names beside the target and under NAME_MAX', () => {
    const long = `/d/${'n'.repeat(255)}`;
    const temp = tempPathBeside(long);
    expect(temp.startsWith('/d/.nnn')).toBe(true);
    expect(temp.length - 3).toBeLessThanOrEqual(255);
    expect(tempPathBeside('/d/x')).toMatch(new RegExp(`^/d/\\.x\\.tmp-${process.pid}-[0-9a-f]{12}$`));
  });
});

describe('makeDirectory', () => {
  it('returns the first directory it made, and undefined when all existed', async () => {
    const base = tmp.join('mkdirp');
    expect(await makeDirectory(`${base}/a/b`)).toBe(base);
    expect(await makeDirectory(`${base}/a/b`)).toBeUndefined();
  });

  it('names the real cause instead of the ENOENT a recursive mkdir reports', async () => {
    const file = tmp.join('a-file');
    await writeFile(file, 'x');
    await expect(makeDirectory(`${file}/sub/dir`)).rejects.toThrow(
      `${file}/sub/dir: cannot create: a parent is not a directory (ENOTDIR)`,
    );
  });
});

describe('writeFileAtomic with a signal', () => {
  it('aborted mid-stream: rejects with an AbortError, the temp file is removed, the old file stays', async () => {
    const dir = tmp.join('abort-mid-stream');
    await mkdir(dir);
    const path = join(dir, 'out.bin');
    await writeFileAtomic(path, 'old');
    const controller = new AbortController();
    let pushed = false;
    // One chunk, then it stalls forever: only the abort can end the write.
    const stalled = new Readable({
      read() {
        if (pushed) return;
        pushed = true;
        this.push(Buffer.alloc(2 * 1024 * 1024));
        setTimeout(() => controller.abort(), 20);
      },
    });
    const write = writeFileAtomic(path, stalled, { signal: controller.signal });
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(dir)).toEqual(['out.bin']);
    expect(await readFile(path, 'utf8')).toBe('old');
  });

  it('already aborted: writes nothing', async () => {
    const dir = tmp.join('aborted');
    await mkdir(dir);
    const write = writeFileAtomic(join(dir, 'x'), 'data', { signal: AbortSignal.abort() });
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(dir)).toEqual([]);
  });
});
