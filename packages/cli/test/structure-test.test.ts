import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { img, imgOk } from './helpers.js';

// img structure-test on an image built by img build: config checks, the merged filesystem of two
// layers (a whiteout removes a lower file, a symlink), and file contents streamed from a layer.
describe('img structure-test', () => {
  let dir: string;
  let layout: string;

  const config = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'img-cst-'));
    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'server.sh'), '#!/bin/sh\necho serving on port 8080\n');
    await writeFile(join(dir, 'app', 'old.txt'), 'old');
    await writeFile(join(dir, 'app', 'secret'), 'password=hunter2\n');
    await writeFile(
      join(dir, 'image.json'),
      JSON.stringify({
        platform: 'linux/amd64',
        layers: [
          {
            files: { '/app/server.sh': 'app/server.sh', '/app/old.txt': 'app/old.txt' },
            metadata: { '/app/server.sh': { mode: '0755', uid: 1000, gid: 1000 } },
            compress: 'zstd',
          },
          {
            files: { '/etc/app/secret': 'app/secret' },
            symlinks: { '/usr/bin/server': '/app/server.sh' },
            whiteouts: ['/app/old.txt'],
            metadata: { '/etc/app/secret': { mode: '0600' } },
          },
        ],
        config: {
          entrypoint: ['/usr/bin/server'],
          cmd: ['--port=8080'],
          env: { APP_ENV: 'production', PATH: '/usr/bin:/bin' },
          workdir: '/app',
          user: '1000:1000',
          labels: { 'org.opencontainers.image.version': '1.2.3' },
          exposedPorts: ['8080'],
        },
      }),
    );
    layout = join(dir, 'layout');
    await imgOk('build', join(dir, 'image.json'), '--output', `oci:${layout}`);
  });

  const good = `schemaVersion: 2.0.0
metadataTest:
  env:
    - key: APP_ENV
      value: production
    - key: PATH
      value: ^/usr/bin
      isRegex: true
  labels:
    - key: org.opencontainers.image.version
      value: 1.2.3
  entrypoint: ["/usr/bin/server"]
  cmd: ["--port=8080"]
  exposedPorts: ["8080"]
  workdir: /app
  user: "1000:1000"
fileExistenceTests:
  - name: server
    path: /app/server.sh
    shouldExist: true
    permissions: -rwxr-xr-x
    uid: 1000
    gid: 1000
    isExecutableBy: other
  - name: secret mode
    path: /etc/app/secret
    permissions: -rw-------
  - name: whiteout removed old.txt
    path: /app/old.txt
    shouldExist: false
  - name: symlink
    path: /usr/bin/server
    permissions: Lrwxrwxrwx
  - name: implied directory
    path: /etc/app
fileContentTests:
  - name: server script
    path: /usr/bin/server
    expectedContents: ["serving on port \\\\d+"]
    excludedContents: ["debug"]
`;

  it('passes a correct config (YAML), naming each check', async () => {
    const r = await imgOk('structure-test', `oci:${layout}`, '--config', await config('good.yaml', good));
    expect(r.stdout.split('\n').at(-1)).toBe('14 passed, 0 failed');
    expect(r.stdout).toContain('PASS');
    expect(r.stdout).toContain(': fileExistenceTests whiteout removed old.txt');
  });

  it('fails naming the check on a wrong mode, a missing file, a wrong env and wrong content', async () => {
    const wrong = await config(
      'wrong.json',
      JSON.stringify({
        schemaVersion: '2.0.0',
        metadataTest: { envVars: [{ key: 'APP_ENV', value: 'staging' }] },
        fileExistenceTests: [
          { name: 'mode', path: '/etc/app/secret', shouldExist: true, permissions: '-rw-r--r--' },
          { name: 'missing', path: '/app/missing.txt', shouldExist: true },
        ],
        fileContentTests: [{ name: 'secret', path: '/etc/app/secret', excludedContents: ['password'] }],
      }),
    );
    const r = await img('structure-test', `oci:${layout}`, '--config', wrong);
    expect(r.code).toBe(1);
    const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(fails).toEqual([
      `FAIL ${wrong}: metadataTest env APP_ENV: "production", want "staging"`,
      `FAIL ${wrong}: fileExistenceTests mode: /etc/app/secret has permissions -rw-------, want -rw-r--r--`,
      `FAIL ${wrong}: fileExistenceTests missing: /app/missing.txt does not exist`,
      `FAIL ${wrong}: fileContentTests secret: /etc/app/secret: excluded "password" found`,
    ]);
    expect(r.stdout.split('\n').at(-1)).toBe('0 passed, 4 failed');
    expect(r.stderr).toBe(
      `img: structure test failed: 4 of 4 checks (${wrong}: metadataTest env APP_ENV: "production", want "staging", ...)`,
    );
  });

  it('fails commandTests clearly: no container runtime is configured', async () => {
    const cmd = await config(
      'cmd.yaml',
      'schemaVersion: 2.0.0\ncommandTests:\n  - name: say hi\n    command: echo\n    args: [hi]\n    expectedOutput: [hi]\n',
    );
    const r = await img('structure-test', `oci:${layout}`, '--config', cmd);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL ' +
        cmd +
        ': commandTests (say hi): commandTests run the image, and no container runtime is configured for this test',
    );
  });

  it('refuses an unknown field, naming file and field', async () => {
    const r = await img(
      'structure-test',
      `oci:${layout}`,
      '--config',
      await config('typo.yaml', 'fileExistanceTests: []\n'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/typo\.yaml: config\.fileExistanceTests: unknown field/);
  });
});
