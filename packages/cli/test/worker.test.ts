import { readFile, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { parseLayerMetadata } from '@img/oci-spec';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import {
  expandParamFile,
  isParamFileInvocation,
  runAction,
  runParamFileAction,
  runPersistentWorker,
  type WorkResponse,
} from '../src/worker.js';

const tmp = useTempDir('cli-worker-');

/** Feed `requests` (objects or raw text) to an in-process worker; returns its protocol lines. */
async function serve(requests: Array<object | string>): Promise<WorkResponse[]> {
  const input = new PassThrough();
  const lines: string[] = [];
  const done = runPersistentWorker({ input, write: (line) => lines.push(line) });
  for (const r of requests) input.write(typeof r === 'string' ? r : `${JSON.stringify(r)}\n`);
  input.end();
  await done;
  for (const line of lines) expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
  return lines.map((l) => JSON.parse(l) as WorkResponse);
}

describe('persistent worker (JSON protocol)', () => {
  it('runs layer and manifest requests in-process and answers each with its requestId', async () => {
    const file = tmp.join('a.txt');
    await writeFile(file, 'hello\n');
    const responses = await serve([
      {
        arguments: [
          'layer',
          `--add=app/a.txt=${file}`,
          `--metadata=${tmp.join('l1.json')}`,
          tmp.join('l1.tgz'),
        ],
        requestId: 0,
      },
      {
        arguments: [
          'layer',
          `--add=app/b.txt=${file}`,
          '--format=zstd',
          `--metadata=${tmp.join('l2.json')}`,
          tmp.join('l2.tar.zst'),
        ],
      },
      {
        arguments: [
          'manifest',
          `--layer=${tmp.join('l1.json')}`,
          `--layer=${tmp.join('l2.json')}`,
          `--manifest=${tmp.join('m.json')}`,
          `--config=${tmp.join('c.json')}`,
          `--digest=${tmp.join('digest')}`,
        ],
        requestId: 7,
      },
    ]);
    expect(responses).toEqual([
      { exitCode: 0, output: '', requestId: 0 },
      { exitCode: 0, output: '', requestId: 0 },
      { exitCode: 0, output: '', requestId: 7 },
    ]);
    const l2 = parseLayerMetadata(await readFile(tmp.join('l2.json')), 'l2');
    expect(l2.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    const manifest = JSON.parse(await readFile(tmp.join('m.json'), 'utf8'));
    expect(manifest.layers.map((l: { digest: string }) => l.digest)[1]).toBe(l2.digest);
    expect(await readFile(tmp.join('digest'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('reports a failing request with its message and keeps serving', async () => {
    const file = tmp.join('b.txt');
    await writeFile(file, 'x');
    const responses = await serve([
      {
        arguments: [
          'layer',
          `--add=../../etc/passwd=${file}`,
          `--metadata=${tmp.join('bad.json')}`,
          tmp.join('bad.tgz'),
        ],
        requestId: 1,
      },
      { arguments: ['no-such-command'], requestId: 2 },
      {
        arguments: ['layer', `--add=ok=${file}`, `--metadata=${tmp.join('ok.json')}`, tmp.join('ok.tgz')],
        requestId: 3,
      },
    ]);
    expect(responses[0]!.exitCode).toBe(1);
    expect(responses[0]!.output).toMatch(/escapes the layer root/);
    expect(responses[1]!.exitCode).toBe(2);
    expect(responses[1]!.output).toMatch(/unknown command/);
    expect(responses[2]).toEqual({ exitCode: 0, output: '', requestId: 3 });
    await expect(readFile(tmp.join('bad.tgz'))).rejects.toThrow(/ENOENT/);
  });

  it('accepts a request pretty-printed over several lines and resolves paths in sandboxDir', async () => {
    const sandbox = tmp.join('');
    await writeFile(tmp.join('c.txt'), 'c');
    const pretty = `${JSON.stringify(
      {
        arguments: ['layer', '--add=c=c.txt', '--metadata=c.json', 'c.tgz'],
        requestId: 4,
        sandboxDir: sandbox,
      },
      null,
      2,
    )}\n`;
    const before = process.cwd();
    const responses = await serve([pretty]);
    expect(responses).toEqual([{ exitCode: 0, output: '', requestId: 4 }]);
    expect(process.cwd()).toBe(before);
    expect(parseLayerMetadata(await readFile(tmp.join('c.json')), 'c').size).toBeGreaterThan(0);
  });

  it('answers a cancel request without running anything', async () => {
    const responses = await serve([{ arguments: ['layer'], requestId: 9, cancel: true }]);
    expect(responses).toEqual([{ exitCode: 0, output: '', requestId: 9, wasCancelled: true }]);
  });
});

describe('Bazel param files', () => {
  it('recognises `img @file` and expands one argument per line', async () => {
    expect(isParamFileInvocation(['@p'])).toBe(true);
    expect(isParamFileInvocation(['layer', '@p'])).toBe(false);
    expect(isParamFileInvocation(['@'])).toBe(false);
    await writeFile(tmp.join('params'), 'layer\n--add=a b=/x y\n--annotation=k=v=w\n');
    expect(await expandParamFile(`@${tmp.join('params')}`)).toEqual([
      'layer',
      '--add=a b=/x y',
      '--annotation=k=v=w',
    ]);
  });

  it('keeps a successful action silent and shows stdout and stderr of a failed one', async () => {
    const ok = await runAction(['--version'], async (argv, io) => {
      io.out(`ran ${argv.join(' ')}`);
      io.err('a warning');
      return 0;
    });
    expect(ok).toEqual({ exitCode: 0, output: 'a warning\n', requestId: 0 });
    const failed = await runAction(['x'], async (_argv, io) => {
      io.out('partial result');
      throw new Error('boom');
    });
    expect(failed.exitCode).toBe(1);
    expect(failed.output).toBe('partial result\nimg: boom (set IMG_DEBUG=1 for a stack trace)\n');
  });

  it('runs a one-shot action from its param file and fails clearly on a missing one', async () => {
    await writeFile(tmp.join('oneshot'), `--version\n`);
    let seen: readonly string[] = [];
    const code = await runParamFileAction([`@${tmp.join('oneshot')}`], async (argv) => {
      seen = argv;
      return 0;
    });
    expect(code).toBe(0);
    expect(seen).toEqual(['--version']);
    expect(await runParamFileAction([`@${tmp.join('missing')}`])).toBe(2);
  });
});
