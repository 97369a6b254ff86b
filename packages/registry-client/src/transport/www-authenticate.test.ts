import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, pickChallenge } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Bearer challenge whose scope holds commas and colons', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:samalba/my-app:pull,push',
        },
      },
    ]);
  });

  it('parses several challenges, unquoted values, escapes and odd spacing', () => {
    const got = parseWwwAuthenticate(
      'Basic realm="a \\"b\\"", Bearer  realm=https://t/x , error="insufficient_scope"',
    );
    expect(got).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', error: 'insufficient_scope' } },
    ]);
    expect(pickChallenge(got)?.scheme).toBe('bearer');
  });

  it('skips token68 credentials and unknown schemes', () => {
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="r"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
    expect(pickChallenge(parseWwwAuthenticate('Negotiate'))).toBeUndefined();
  });
});
