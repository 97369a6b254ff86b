import { isAbsolute, resolve } from 'node:path';
import { RemoteCacheError } from './errors.js';

/** A parsed remote cache address. */
export interface RemoteCacheEndpoint {
  /** `grpc` (plaintext), `grpcs` (TLS) or `unix` (plaintext over a unix socket). */
  readonly scheme: 'grpc' | 'grpcs' | 'unix';
  /** The target handed to gRPC: `HOST:PORT` or `unix:///abs/path`. */
  readonly target: string;
  /** `HOST:PORT` (no port for grpcs on 443; `localhost` for unix sockets), as Bazel names it to credential helpers. */
  readonly authority: string;
  /** The normalised endpoint, for messages: `grpc://127.0.0.1:9092`, `grpcs://cache.example`, `unix:///run/cache.sock`. */
  readonly url: string;
}

const DEFAULT_GRPCS_PORT = 443;

/**
 * Parse a remote cache endpoint as Bazel's `--remote_cache` takes it: `grpc://HOST:PORT`,
 * `grpcs://HOST[:PORT]` (port 443 by default), `HOST[:PORT]` (TLS, as in Bazel), `unix:PATH` or
 * `unix:///PATH`. HTTP caches are not REAPI and are refused, as are credentials and paths in the URL.
 */
export function parseEndpoint(value: string): RemoteCacheEndpoint {
  const invalid = (why: string): never => {
    throw new RemoteCacheError(
      'IMG_REMOTE_CACHE_INVALID_ENDPOINT',
      `remote cache endpoint ${JSON.stringify(value)}: ${why}`,
    );
  };
  const trimmed = value.trim();
  if (trimmed === '') invalid('empty');
  if (trimmed.startsWith('unix:')) {
    const path = trimmed.replace(/^unix:(\/\/)?/, '');
    if (path === '' || path.includes('\0')) invalid('no socket path');
    const absolute = isAbsolute(path) ? path : resolve(path);
    return {
      scheme: 'unix',
      target: `unix://${absolute}`,
      authority: 'localhost',
      url: `unix://${absolute}`,
    };
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  let url: URL;
  try {
    url = new URL(hasScheme ? trimmed : `grpcs://${trimmed}`);
  } catch {
    return invalid('not a URL');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase() as 'grpc' | 'grpcs' | 'http' | 'https' | string;
  if (scheme === 'http' || scheme === 'https') {
    invalid('HTTP caches do not speak REAPI; use grpc://, grpcs:// or unix:');
  }
  if (scheme !== 'grpc' && scheme !== 'grpcs')
    invalid(`unsupported scheme ${scheme}: (use grpc://, grpcs:// or unix:)`);
  if (url.username !== '' || url.password !== '')
    invalid('credentials do not belong in the URL; use a credential helper or headers');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    invalid('a path, query or fragment is not allowed (the instance name is a separate setting)');
  }
  if (url.hostname === '') invalid('no host');
  const port = url.port === '' ? undefined : Number(url.port);
  if (scheme === 'grpc' && port === undefined) invalid('grpc:// needs a port');
  const effectivePort = port ?? DEFAULT_GRPCS_PORT;
  const hostPort = `${url.hostname}:${effectivePort}`;
  const authority = scheme === 'grpcs' && effectivePort === DEFAULT_GRPCS_PORT ? url.hostname : hostPort;
  return {
    scheme: scheme as 'grpc' | 'grpcs',
    target: hostPort,
    authority,
    url: `${scheme}://${scheme === 'grpcs' ? authority : hostPort}`,
  };
}
