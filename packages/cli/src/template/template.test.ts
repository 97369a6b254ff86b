import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { img, imgOk } from '../../test/helpers.js';
import { expandValue, readStampFiles, templateData } from './data.js';
import { TemplateError } from './errors.js';
import { expandTemplate } from './evaluate.js';

const base = {
  config: { architecture: 'amd64', config: { env: ['PATH=/usr/bin:/bin', 'HOME=/root'], user: 'nobody' } },
};

describe('expandTemplate (Go text/template with rules_img functions)', () => {
  const data = {
    environment: 'prod',
    region: 'eu',
    STABLE_TAG: 'v1.2.3',
    GIT_BRANCH: 'feature',
    GIT_COMMIT: 'abc',
    base,
    empty: '',
    list: ['a', 'b'],
  };
  const cases: Array<[string, string]> = [
    ['plain text', 'plain text'],
    ['{{.region}}.registry.example.com', 'eu.registry.example.com'],
    ['{{ .environment }}-latest', 'prod-latest'],
    ['{{if .STABLE_TAG}}{{.STABLE_TAG}}{{else}}dev{{end}}', 'v1.2.3'],
    ['{{if .MISSING}}{{.MISSING}}{{else}}dev{{end}}', 'dev'],
    ['latest{{if eq .environment "dev"}}-dev{{end}}', 'latest'],
    ['{{if and .GIT_COMMIT (ne .GIT_BRANCH "main")}}{{.GIT_BRANCH}}-{{.GIT_COMMIT}}{{end}}', 'feature-abc'],
    ['{{if eq .environment "dev"}}d{{else if eq .environment "prod"}}p{{else}}x{{end}}', 'p'],
    ['{{getkv .base.config.config.env "PATH"}}', '/usr/bin:/bin'],
    ['{{appendkv .base.config.config.env "PATH" ":/opt/bin"}}', '/usr/bin:/bin:/opt/bin'],
    ['{{prependkv .base.config.config.env "LD_LIBRARY_PATH" "/opt/lib"}}', '/opt/lib'],
    ['{{range split "a:b:c" ":"}}[{{.}}]{{end}}', '[a][b][c]'],
    ['{{join .list "-"}}', 'a-b'],
    ['{{if hasprefix .GIT_BRANCH "feat"}}yes{{end}}{{if hassuffix .GIT_BRANCH "x"}}no{{end}}', 'yes'],
    ['{{trimprefix "/usr/bin" "/usr"}} {{trimsuffix "v1-dev" "-dev"}}', '/bin v1'],
    ['{{rfc3339 "1750000000"}}', '2025-06-15T15:06:40Z'],
    ['{{rfc3339 .empty}}', ''],
    ['{{.region | printf "%s-x"}}', 'eu-x'],
    ['{{$r := .region}}{{$r}}/{{$.environment}}', 'eu/prod'],
    ['{{range $i, $e := .list}}{{$i}}={{$e}} {{end}}', '0=a 1=b '],
    ['a  {{- .region -}}  b', 'aeub'],
    ['{{/* a comment */}}x', 'x'],
    ['{{with .base.config}}{{.architecture}}{{end}}', 'amd64'],
    ['{{len .list}} {{index .list 1}} {{not .empty}} {{or .empty "fallback"}}', '2 b true fallback'],
    ['{{`raw {{x}}`}}', 'raw {{x}}'],
  ];
  for (const [template, want] of cases) {
    it(template, () => expect(expandTemplate(template, data)).toBe(want));
  }

  it('reports syntax and evaluation errors with line and column', () => {
    const error = (t: string) => {
      try {
        expandTemplate(t, data);
      } catch (err) {
        expect(err).toBeInstanceOf(TemplateError);
        return (err as Error).message;
      }
      throw new Error(`no error for ${t}`);
    };
    expect(error('v-{{.BUILD_EMBED_LABEL}}')).toBe('1:5: .BUILD_EMBED_LABEL is not defined');
    expect(error('{{if .region}}x')).toBe('1:3: unexpected EOF: {{if}} has no {{end}}');
    expect(error('ok\n{{nosuch .region}}')).toBe('2:3: function "nosuch" not defined');
    expect(error('{{.region')).toBe('1:1: unclosed action');
    expect(error('{{end}}')).toBe('1:3: unexpected {{end}}');
    expect(error('{{ "abc }}')).toBe('1:1: unclosed action');
    expect(error('{{rfc3339 "yesterday"}}')).toBe(
      '1:3: error calling rfc3339: rfc3339: "yesterday" is not a unix timestamp',
    );
    expect(error('{{$nope}}')).toBe('1:3: undefined variable "$nope"');
    expect(error('{{template "x"}}')).toBe('1:3: {{template}} is not supported in img templates');
  });
});

describe('template data and values', () => {
  it('reads workspace status files, derives BUILD_TIMESTAMP_RFC3339, lets build settings win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'img-template-'));
    await writeFile(join(dir, 'stable.txt'), 'STABLE_USER alice\nBUILD_EMBED_LABEL rel 1\n');
    await writeFile(join(dir, 'volatile.txt'), 'BUILD_TIMESTAMP 1750000000\nFLAG\n');
    const stamp = await readStampFiles([join(dir, 'stable.txt'), join(dir, 'volatile.txt')]);
    expect(stamp).toEqual({
      STABLE_USER: 'alice',
      BUILD_EMBED_LABEL: 'rel 1',
      BUILD_TIMESTAMP: '1750000000',
      FLAG: '',
    });
    const data = templateData({ stamp, buildSettings: { STABLE_USER: 'bob' } });
    expect(data.BUILD_TIMESTAMP_RFC3339).toBe('2025-06-15T15:06:40Z');
    expect(data.STABLE_USER).toBe('bob');
    expect(templateData({}).BUILD_TIMESTAMP_RFC3339).toBe('');
  });

  it('names the attribute, entry and position, and hints at stamping', () => {
    const data = templateData({});
    expect(expandValue('labels', { a: '{{.BUILD_TIMESTAMP_RFC3339}}x' }, data)).toEqual({ a: 'x' });
    expect(() => expandValue('tags', ['ok', 'v-{{.BUILD_EMBED_LABEL}}'], data, { unstamped: true })).toThrow(
      'tags[1] "v-{{.BUILD_EMBED_LABEL}}": 1:5: .BUILD_EMBED_LABEL is not defined (stamping is off: build with --stamp, or set stamp = "force")',
    );
    expect(() => expandValue('labels', { version: '{{.V' }, data)).toThrow(
      'labels["version"] "{{.V": 1:1: unclosed action',
    );
  });
});

describe('img template', () => {
  it('expands the templates of a request, keeps the other members, dedupes tags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'img-template-'));
    await writeFile(join(dir, 'status.txt'), 'BUILD_EMBED_LABEL 42\n');
    await writeFile(
      join(dir, 'req.json'),
      JSON.stringify({
        command: 'push',
        templates: {
          registry: '{{.region}}.example',
          tags: ['latest', 'v{{.BUILD_EMBED_LABEL}}', 'latest', '{{if .NOPE}}x{{end}}'],
        },
        build_settings: { region: 'eu' },
      }),
    );
    const out = join(dir, 'out.json');
    const r = await img(
      'template',
      join(dir, 'req.json'),
      '--stamp',
      join(dir, 'status.txt'),
      '--output',
      out,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual({
      command: 'push',
      registry: 'eu.example',
      tags: ['latest', 'v42'],
    });
    // Unstamped, a stamp variable's value stays a template (bazel run then refuses it).
    await imgOk('template', join(dir, 'req.json'), '--output', out);
    expect(JSON.parse(await readFile(out, 'utf8')).tags).toEqual(['latest', 'v{{.BUILD_EMBED_LABEL}}']);
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ templates: { repository: 'a/{{.x | nosuch}}' } }),
    );
    const bad = await img('template', join(dir, 'bad.json'), '--output', out);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('img: repository "a/{{.x | nosuch}}": 1:10: function "nosuch" not defined');
  });
});
