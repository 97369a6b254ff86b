import { chmod, readFile, writeFile } from 'node:fs/promises';
import { ImgError } from '@img/oci-spec';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { createCredentialHelper } from './credential-helper.js';
import { CredentialHelperError } from './errors.js';
import { getCredentialHeaders } from './get-headers.js';

const dir = useTempDir('credential-helper-');

/** A helper script that logs its stdin and argv to `<name>.log` and prints `answer`. */
async function helperScript(
  name: string,
  answer: string,
  extra = '',
): Promise<{ path: string; runs: () => Promise<string[]> }> {
  const path = dir.join(name);
  const log = dir.join(`${name}.log`);
  await writeFile(
    path,
    `#!/bin/sh\nread -r input\nprintf '%s %s\\n' "$1" "$input" >> '${log}'\n${extra}\ncat <<'JSON'\n${answer}\nJSON\n`,
  );
  await chmod(path, 0o755);
  return {
    path,
    runs: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
  };
}

describe('getCredentialHeaders', () => {
  it('runs `helper get` with {"uri"} on stdin and returns lower-case headers with all values', async () => {
    const h = await helperScript(
      'multi',
      '{"headers":{"Authorization":["Bearer abc"],"X-Two":["a","b"],"X-Str":"s","X-Bad":[1]},"expires":"2030-01-02T03:04:05Z"}',
    );
    const answer = await getCredentialHeaders(h.path, 'https://cache.example:443/x');
    expect(answer.headers).toEqual({ authorization: ['Bearer abc'], 'x-two': ['a', 'b'], 'x-str': ['s'] });
    expect(answer.expiresAt).toBe(Date.parse('2030-01-02T03:04:05Z'));
    expect(await h.runs()).toEqual(['get {"uri":"https://cache.example:443/x"}']);
  });

  it('fails with IMG_CREDENTIAL_HELPER_FAILED naming helper and URI (exit code, bad JSON, missing, timeout)', async () => {
    const failing = await helperScript('failing', '{}', "echo 'no   token\nhere' >&2; exit 3");
    const err = await getCredentialHeaders(failing.path, 'https://a/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialHelperError);
    expect(err).toBeInstanceOf(ImgError);
    expect(err).toMatchObject({ code: 'IMG_CREDENTIAL_HELPER_FAILED', name: 'CredentialHelperError' });
    expect((err as Error).message).toBe(
      `credential helper ${failing.path} for https://a/: exit 3: no token here`,
    );

    const garbage = await helperScript('garbage', 'not json');
    await expect(getCredentialHeaders(garbage.path, 'https://a/')).rejects.toThrow(/printed invalid JSON/);
    await expect(getCredentialHeaders(dir.join('absent'), 'https://a/')).rejects.toThrow(
      /absent for https:\/\/a\/: not found/,
    );
    const slow = await helperScript('slow', '{}', 'sleep 5');
    await expect(getCredentialHeaders(slow.path, 'https://a/', { timeoutMs: 200 })).rejects.toThrow(
      /no answer within 200 ms/,
    );
  });
});

describe('createCredentialHelper', () => {
  it('caches per URI until `expires`, then runs the helper again', async () => {
    const h = await helperScript('expiring', '{"headers":{"a":["1"]},"expires":"2030-01-01T00:00:00Z"}');
    let clock = Date.parse('2029-12-31T23:00:00Z');
    const helper = createCredentialHelper(h.path, { now: () => clock });
    const [one, two] = await Promise.all([helper.headersFor('https://x/'), helper.headersFor('https://x/')]);
    expect(one).toEqual({ a: ['1'] });
    expect(two).toEqual({ a: ['1'] });
    await helper.headersFor('https://x/');
    expect(await h.runs()).toHaveLength(1);
    await helper.headersFor('https://y/');
    expect(await h.runs()).toHaveLength(2);
    clock = Date.parse('2030-01-01T00:00:01Z');
    await helper.headersFor('https://x/');
    expect(await h.runs()).toHaveLength(3);
  });

  it('without `expires` reuses an answer for cacheDurationMs; a failure is not cached', async () => {
    const h = await helperScript('plain', '{"headers":{}}');
    let clock = 1_000;
    const helper = createCredentialHelper(h.path, { now: () => clock, cacheDurationMs: 500 });
    expect(await helper.headersFor('https://x/')).toEqual({});
    clock = 1_499;
    await helper.headersFor('https://x/');
    expect(await h.runs()).toHaveLength(1);
    clock = 1_500;
    await helper.headersFor('https://x/');
    expect(await h.runs()).toHaveLength(2);

    const failing = await helperScript('fails-once', '{}', 'exit 1');
    const f = createCredentialHelper(failing.path);
    await expect(f.headersFor('https://x/')).rejects.toThrow(/exit 1/);
    await expect(f.headersFor('https://x/')).rejects.toThrow(/exit 1/);
    expect(await failing.runs()).toHaveLength(2);
  });

  it("a caller's abort stops only its own wait", async () => {
    const h = await helperScript('shared', '{"headers":{"k":["v"]}}', 'sleep 0.3');
    const helper = createCredentialHelper(h.path);
    const controller = new AbortController();
    const aborted = helper.headersFor('https://x/', { signal: controller.signal });
    const other = helper.headersFor('https://x/');
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(await other).toEqual({ k: ['v'] });
    expect(await h.runs()).toHaveLength(1);
  });
});
