import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { img, imgOk } from './helpers.js';

// rules_img's image_manifest values through `img manifest` / `img index`: key-value files, Go templates
// with stamp variables and the base's config, created from a file, subject and artifactType.
describe('img manifest and img index: files, templates, subject', () => {
  it('merges env/label/annotation files as rules_img does and expands templates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'img-mv-'));
    const f = (name: string, text: string) => writeFile(join(dir, name), text).then(() => join(dir, name));
    const envFile = await f('env.txt', '# env\nA = from-file\nB=file-only\n\n');
    const labelsJson = await f('labels.json', '{"version": ["1", "2"], "team": "core"}');
    const labelsList = await f('labels2.json', '["built.by = {{.STABLE_USER}}"]');
    const annotations = await f('ann.txt', 'org.opencontainers.image.revision={{.BUILD_EMBED_LABEL}}\n');
    const stamp = await f('stable.txt', 'STABLE_USER alice\nBUILD_EMBED_LABEL r7\n');
    const volatile = await f('volatile.txt', 'BUILD_TIMESTAMP 1750000000\n');
    const settings = await f('settings.json', '{"environment": "prod"}');
    // a base image to read $PATH from
    await imgOk(
      'manifest',
      '--env=PATH=/usr/bin',
      `--manifest=${join(dir, 'base_m.json')}`,
      `--config=${join(dir, 'base_c.json')}`,
      `--descriptor=${join(dir, 'base_d.json')}`,
    );
    await imgOk(
      'manifest',
      `--base-manifest=${join(dir, 'base_m.json')}`,
      `--base-config=${join(dir, 'base_c.json')}`,
      '--env=A=from-attr',
      '--env=PATH={{ $PATH }}:/opt/bin',
      '--env=MODE={{.environment}}',
      `--env-file=${envFile}`,
      '--label=version=0',
      '--label=arch={{.base.config.architecture}}',
      `--label-file=${labelsJson}`,
      `--label-file=${labelsList}`,
      '--annotation=org.opencontainers.image.revision=attr',
      `--annotations-file=${annotations}`,
      '--created={{.BUILD_TIMESTAMP_RFC3339}}',
      '--template',
      `--build-settings=${settings}`,
      `--stamp=${stamp}`,
      `--stamp=${volatile}`,
      `--subject=${join(dir, 'base_d.json')}`,
      '--artifact-type=application/vnd.example.test',
      `--manifest=${join(dir, 'm.json')}`,
      `--config=${join(dir, 'c.json')}`,
      `--descriptor=${join(dir, 'd.json')}`,
    );
    const config = JSON.parse(await readFile(join(dir, 'c.json'), 'utf8'));
    expect(config.created).toBe('2025-06-15T15:06:40Z');
    expect(config.config.Env).toEqual(['PATH=/usr/bin:/opt/bin', 'A=from-attr', 'B=file-only', 'MODE=prod']);
    expect(config.config.Labels).toEqual({ version: '2', arch: 'amd64', team: 'core', 'built.by': 'alice' });
    const manifest = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8'));
    const baseDescriptor = JSON.parse(await readFile(join(dir, 'base_d.json'), 'utf8'));
    expect(manifest.annotations['org.opencontainers.image.revision']).toBe('r7');
    expect(manifest.artifactType).toBe('application/vnd.example.test');
    expect(manifest.subject).toEqual({
      mediaType: baseDescriptor.mediaType,
      digest: baseDescriptor.digest,
      size: baseDescriptor.size,
    });

    // Without stamp files a stamp variable expands to ""; a syntax error names attribute and position.
    const unstamped = await imgOk(
      'manifest',
      `--annotations-file=${annotations}`,
      '--label=v={{.STABLE_USER}}',
      '--template',
      `--manifest=${join(dir, 'm2.json')}`,
      `--config=${join(dir, 'c2.json')}`,
    );
    expect(unstamped.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'c2.json'), 'utf8')).config.Labels).toEqual({ v: '' });
    const bad = await img(
      'manifest',
      '--label=v={{.X',
      '--template',
      `--manifest=${join(dir, 'm2.json')}`,
      `--config=${join(dir, 'c2.json')}`,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('img: labels["v"] "{{.X": 1:1: unclosed action');
    // created from a file wins; an empty created_timestamp leaves created unset
    await writeFile(join(dir, 'created.txt'), '2024-02-03T04:05:06Z\n');
    await imgOk(
      'manifest',
      `--created-file=${join(dir, 'created.txt')}`,
      `--manifest=${join(dir, 'm3.json')}`,
      `--config=${join(dir, 'c3.json')}`,
    );
    expect(JSON.parse(await readFile(join(dir, 'c3.json'), 'utf8')).created).toBe('2024-02-03T04:05:06Z');
    await imgOk(
      'manifest',
      '--created={{.BUILD_TIMESTAMP_RFC3339}}',
      '--template',
      `--manifest=${join(dir, 'm4.json')}`,
      `--config=${join(dir, 'c4.json')}`,
    );
    expect(JSON.parse(await readFile(join(dir, 'c4.json'), 'utf8')).created).toBeUndefined();
    // a bad key-value line names the file and the line
    const badEnv = await f('bad.env', 'OK=1\nnot a pair\n');
    const r = await img(
      'manifest',
      `--env-file=${badEnv}`,
      `--manifest=${join(dir, 'm5.json')}`,
      `--config=${join(dir, 'c5.json')}`,
    );
    expect(r.stderr).toBe(`img: --env-file ${badEnv}:2: "not a pair" is not KEY=VALUE`);

    // the index: annotations file over the flag, templated, and a subject
    await imgOk(
      'index',
      `--manifest-descriptor=${join(dir, 'd.json')}`,
      '--annotation=k=v',
      `--annotations-file=${annotations}`,
      '--template',
      `--stamp=${stamp}`,
      `--subject=${join(dir, 'base_d.json')}`,
      `--output=${join(dir, 'i.json')}`,
    );
    const index = JSON.parse(await readFile(join(dir, 'i.json'), 'utf8'));
    expect(index.annotations).toEqual({ k: 'v', 'org.opencontainers.image.revision': 'r7' });
    expect(index.subject.digest).toBe(baseDescriptor.digest);
  });
});
