import { describe, expect, it } from 'vitest';
import { parseEndpoint } from './endpoint.js';

describe('parseEndpoint', () => {
  it.each([
    [
      'grpc://127.0.0.1:9092',
      { scheme: 'grpc', target: '127.0.0.1:9092', authority: '127.0.0.1:9092', url: 'grpc://127.0.0.1:9092' },
    ],
    [
      'grpcs://cache.example',
      {
        scheme: 'grpcs',
        target: 'cache.example:443',
        authority: 'cache.example',
        url: 'grpcs://cache.example',
      },
    ],
    [
      'grpcs://cache.example:8980/',
      {
        scheme: 'grpcs',
        target: 'cache.example:8980',
        authority: 'cache.example:8980',
        url: 'grpcs://cache.example:8980',
      },
    ],
    [
      'cache.example:8980',
      {
        scheme: 'grpcs',
        target: 'cache.example:8980',
        authority: 'cache.example:8980',
        url: 'grpcs://cache.example:8980',
      },
    ],
    [
      'GRPC://[::1]:7000',
      { scheme: 'grpc', target: '[::1]:7000', authority: '[::1]:7000', url: 'grpc://[::1]:7000' },
    ],
    [
      'unix:///run/cache.sock',
      {
        scheme: 'unix',
        target: 'unix:///run/cache.sock',
        authority: 'localhost',
        url: 'unix:///run/cache.sock',
      },
    ],
    [
      'unix:/run/cache.sock',
      {
        scheme: 'unix',
        target: 'unix:///run/cache.sock',
        authority: 'localhost',
        url: 'unix:///run/cache.sock',
      },
    ],
  ])('%s', (input, expected) => {
    expect(parseEndpoint(input)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['https://cache.example', /HTTP caches do not speak REAPI/],
    ['grpc://cache.example', /grpc:\/\/ needs a port/],
    ['grpc://user:secret@cache.example:1', /credentials do not belong in the URL/],
    ['grpc://cache.example:1/instance', /path, query or fragment/],
    ['ftp://cache.example:1', /unsupported scheme ftp/],
    ['unix:', /no socket path/],
  ])('refuses %j', (input, message) => {
    expect(() => parseEndpoint(input)).toThrow(
      expect.objectContaining({
        code: 'IMG_REMOTE_CACHE_INVALID_ENDPOINT',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('names the endpoint without echoing a password', () => {
    expect(() => parseEndpoint('grpc://user:secret@h:1')).toThrow(/credentials do not belong/);
  });
});
