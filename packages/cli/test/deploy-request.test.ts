import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { img } from './helpers.js';

// `img deploy REQUEST.json`: the request is checked against deploy-request.schema.json before any
// work; every error is one line naming the request (its target label, else its file) and the field.
const tmp = useTempDir('img-deploy-request-');

async function deploy(request: unknown, ...flags: string[]) {
  const path = tmp.join(`request-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, typeof request === 'string' ? request : JSON.stringify(request));
  return { path, run: await img('deploy', path, ...flags) };
}

const push = {
  version: 1,
  command: 'push',
  target: '//app:push',
  layout: 'does/not/matter',
  registry: '127.0.0.1:1',
  repository: 'app',
  tags: ['v1'],
};

describe('img deploy: the request', () => {
  it('names the file and the missing field of a push request', async () => {
    const { path, run } = await deploy({ command: 'push', layout: 'l', tags: [] });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`img: deploy request ${path}: registry: required`);
  });

  it('refuses a field the format does not have, and a command it does not know', async () => {
    const extra = await deploy({ ...push, registy: 'typo' });
    expect(extra.run.stderr).toBe(
      `img: deploy request ${extra.path}: registy: not a field of a deploy request`,
    );
    const command = await deploy({ ...push, command: 'copy' });
    expect(command.run.stderr).toMatch(/command: must be equal to one of the allowed values \(push, load\)$/);
  });

  it('checks per-blob sources: digest keys and source shapes', async () => {
    const key = await deploy({ ...push, blobs: { 'sha256:abc': [{ file: 'x' }] } });
    expect(key.run.stderr).toMatch(/deploy request .*: blobs: key "sha256:abc" must match pattern/);
    const source = await deploy({ ...push, blobs: { [`sha256:${'a'.repeat(64)}`]: [{ url: 'x' }] } });
    expect(source.run.stderr).toMatch(
      /blobs\.sha256:a{64}\.0: a blob source is \{"file": PATH\} or \{"registry": HOST, "repository": NAME\}$/,
    );
  });

  it('is not JSON: names the file', async () => {
    const { path, run } = await deploy('{"command": ');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(path);
  });

  it('refuses a tag that is still a template (stamping off), naming the target', async () => {
    const { run } = await deploy({ ...push, tags: ['build-{{.BUILD_EMBED_LABEL}}'] });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'img: //app:push: tags "build-{{.BUILD_EMBED_LABEL}}" is a template but stamping is off; build with --stamp (or stamp = "force", --@img_rules//img/settings:stamp=force)',
    );
  });

  it('refuses a strategy this img does not implement, before reading the image', async () => {
    const { run } = await deploy({ ...push, strategy: 'bes' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('img: //app:push: strategy "bes" is not implemented by this img (eager is)');
  });

  it('reads tag_file below $RUNFILES_DIR and refuses a line that is not a tag, naming it', async () => {
    await writeFile(tmp.join('tags.txt'), '# computed\nok-1\n\nnot a tag\n');
    const saved = process.env.RUNFILES_DIR;
    process.env.RUNFILES_DIR = tmp.path;
    try {
      const { run } = await deploy({ ...push, tag_file: 'tags.txt' });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `img: //app:push: tag_file ${join(tmp.path, 'tags.txt')}:4: "not a tag" is not a valid tag`,
      );
    } finally {
      if (saved === undefined) delete process.env.RUNFILES_DIR;
      else process.env.RUNFILES_DIR = saved;
    }
  });

  it('refuses a load with no name to load the image as', async () => {
    const { run } = await deploy({
      command: 'load',
      target: '//app:load',
      layout: join(tmp.path, 'none'),
      daemon: 'containerd',
      tags: [],
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'img: //app:load: no name to load the image as (tag, tag_list and tag_file are empty)',
    );
  });
});
