import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { ciRequires, run, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMG_BIN } from '../helpers.js';

// `script` (util-linux) gives img a pseudo-terminal, as a user's shell does.
const tools = ciRequires('docker-registry', 'script');
const tmp = useTempDir('img-cli-progress-');

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
// A cli-progress bar line: ` DIGEST12 [bar] N% | SIZE/SIZE | RATE | STATE`.
const BAR =
  /[0-9a-f]{12} \[.+\] \d+% \| [\d.]+ (B|KiB|MiB)\/[\d.]+ (B|KiB|MiB) \| [\d.]+ (B|KiB|MiB)\/s \| uploaded/;

describe.skipIf(tools.skip)('progress', () => {
  let registry: TestRegistry;
  let spec: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    await mkdir(tmp.join('app'));
    await writeFile(tmp.join('app/big'), randomBytes(3 << 20));
    spec = tmp.join('image.json');
    await writeFile(
      spec,
      JSON.stringify({ platform: 'linux/amd64', layers: [{ files: { '/big': 'app/big' } }] }),
    );
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('draws bars with human sizes and rates on a terminal, and nothing but the summary in a pipe', async () => {
    const command = [process.execPath, IMG_BIN, 'push', spec, `${registry.url}/tty/app:1`].map(shellQuote);
    const tty = await run('script', ['-qec', command.join(' '), '/dev/null'], { cwd: tmp.path });
    expect(tty.stdout).toMatch(BAR);
    expect(tty.stdout).toContain('2 uploaded');

    const piped = await run(process.execPath, [IMG_BIN, 'push', spec, `${registry.url}/pipe/app:1`], {
      cwd: tmp.path,
    });
    expect(piped.stderr).not.toMatch(/\[.*\] \d+%/);
    expect(piped.stderr + piped.stdout).not.toContain('\x1b[');
    expect(piped.stdout).toMatch(/^127\.0\.0\.1:\d+\/pipe\/app:1@sha256:[0-9a-f]{64}$/m);
    expect(piped.stderr).toMatch(/^blobs: 0 uploaded, 0 skipped, 2 mounted; /m);
  });
});
