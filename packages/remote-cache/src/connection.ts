import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { CredentialHelper } from '@img/credential-helper';
import { ImgError } from '@img/oci-spec';
import type { RemoteCacheEndpoint } from './endpoint.js';
import { RemoteCacheError } from './errors.js';
import { findProtoDir } from './proto-dir.js';
import { grpcCodeOf } from './retry.js';
import { loadServices, type ReapiServices, SERVICE_NAMES } from './services.js';

/** Published once per RPC attempt: `{ endpoint, method, attempt?, resource?, offset? }`. */
export const RPC_CHANNEL = 'img:remote-cache:rpc';
const rpcChannel = diagnostics.channel(RPC_CHANNEL);

export type ServiceName = keyof ReapiServices;

export interface ConnectionOptions {
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly credentialHelper?: CredentialHelper;
  readonly caFile?: string;
  readonly tlsClientCertificate?: string;
  readonly tlsClientKey?: string;
  readonly protoDir?: string;
  readonly maxReceiveMessageBytes: number;
}

type Callback = (err: grpc.ServiceError | null, res: unknown) => void;
type UnaryFn = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: Callback,
) => grpc.ClientUnaryCall;

/** One gRPC channel to a remote cache, its three service clients, and per-call metadata. */
export class Connection {
  readonly endpoint: RemoteCacheEndpoint;
  readonly #clients: Record<ServiceName, grpc.Client>;
  readonly #headers: ReadonlyArray<readonly [string, string]>;
  readonly #helper: CredentialHelper | undefined;

  constructor(endpoint: RemoteCacheEndpoint, options: ConnectionOptions) {
    this.endpoint = endpoint;
    const services = loadServices(findProtoDir(options.protoDir));
    const credentials = channelCredentials(endpoint, options);
    const channelOptions: grpc.ClientOptions = {
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
      'grpc.max_send_message_length': options.maxReceiveMessageBytes,
      // HTTP/2's default 64 KiB window caps a stream at 64 KiB per round trip: far too little beyond
      // loopback, and it stalls the server while a chunk is hashed.
      'grpc-node.flow_control_window': 8 * 1024 * 1024,
    };
    const cas = new services.cas(endpoint.target, credentials, channelOptions);
    const shared = { ...channelOptions, channelOverride: cas.getChannel() } as grpc.ClientOptions;
    this.#clients = {
      cas,
      capabilities: new services.capabilities(endpoint.target, credentials, shared),
      bytestream: new services.bytestream(endpoint.target, credentials, shared),
    };
    this.#headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) =>
      (typeof value === 'string' ? [value] : value).map((v) => [name.toLowerCase(), v] as const),
    );
    this.#helper = options.credentialHelper;
  }

  /** Static headers plus the credential helper's for this service (Bazel's URI: https://AUTHORITY/SERVICE). */
  async metadata(service: ServiceName, signal?: AbortSignal): Promise<grpc.Metadata> {
    const md = new grpc.Metadata();
    for (const [name, value] of this.#headers) md.add(name, value);
    if (this.#helper !== undefined) {
      const uri = `https://${this.endpoint.authority}/${SERVICE_NAMES[service]}`;
      const headers = await this.#helper.headersFor(uri, { signal });
      for (const [name, values] of Object.entries(headers)) for (const value of values) md.add(name, value);
    }
    return md;
  }

  /** One attempt of a unary call with a deadline; `signal` cancels it. */
  async unary<T>(
    service: ServiceName,
    method: string,
    request: unknown,
    options: { timeoutMs: number; signal?: AbortSignal; attempt?: number },
  ): Promise<T> {
    const md = await this.metadata(service, options.signal);
    options.signal?.throwIfAborted();
    this.publish({ method: `${service}.${method}`, attempt: options.attempt });
    const client = this.#clients[service] as unknown as Record<string, UnaryFn>;
    return new Promise<T>((resolve, reject) => {
      const call = client[method]!.call(
        client,
        request,
        md,
        { deadline: Date.now() + options.timeoutMs },
        (err, res) => {
          options.signal?.removeEventListener('abort', onAbort);
          if (err) reject(options.signal?.aborted ? options.signal.reason : err);
          else resolve(res as T);
        },
      );
      const onAbort = () => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A server-streaming call (ByteStream.Read); the caller handles cancel and errors. */
  serverStream(
    service: ServiceName,
    method: string,
    request: unknown,
    md: grpc.Metadata,
  ): grpc.ClientReadableStream<unknown> {
    const client = this.#clients[service] as unknown as Record<
      string,
      (req: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<unknown>
    >;
    return client[method]!.call(client, request, md);
  }

  /** A client-streaming call (ByteStream.Write); `callback` gets the response or the error. */
  clientStream(
    service: ServiceName,
    method: string,
    md: grpc.Metadata,
    callback: Callback,
  ): grpc.ClientWritableStream<unknown> {
    const client = this.#clients[service] as unknown as Record<
      string,
      (md: grpc.Metadata, cb: Callback) => grpc.ClientWritableStream<unknown>
    >;
    return client[method]!.call(client, md, callback);
  }

  publish(event: Record<string, unknown>): void {
    if (rpcChannel.hasSubscribers) rpcChannel.publish({ endpoint: this.endpoint.url, ...event });
  }

  /** A RemoteCacheError for a failed call: names what was done where, keeps the gRPC code. */
  error(err: unknown, what: string): Error {
    if (err instanceof ImgError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    const code = grpcCodeOf(err);
    const details = (err as { details?: string })?.details ?? (err as Error)?.message ?? String(err);
    const where = `${what} at ${this.endpoint.url}`;
    if (code === grpc.status.NOT_FOUND) {
      return new RemoteCacheError('IMG_REMOTE_CACHE_NOT_FOUND', `${where}: not found (${details})`, {
        cause: err,
        grpcCode: code,
      });
    }
    const name = code === undefined ? 'error' : (grpc.status[code] ?? String(code));
    return new RemoteCacheError('IMG_REMOTE_CACHE_RPC', `${where}: ${name}: ${details}`, {
      cause: err,
      grpcCode: code,
    });
  }

  close(): void {
    for (const client of Object.values(this.#clients)) client.close();
  }
}

function channelCredentials(
  endpoint: RemoteCacheEndpoint,
  options: ConnectionOptions,
): grpc.ChannelCredentials {
  if (endpoint.scheme !== 'grpcs') return grpc.credentials.createInsecure();
  const read = (path: string | undefined, what: string) => {
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new RemoteCacheError('IMG_INVALID_OPTIONS', `${what} ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const ca = read(options.caFile, 'caFile');
  // grpc-js replaces the default roots when given any: keep Node's (and the system's, where Node can
  // list them) next to the extra CA.
  const roots = ca === null ? null : Buffer.concat([Buffer.from(`${defaultRoots().join('\n')}\n`), ca]);
  return grpc.credentials.createSsl(
    roots,
    read(options.tlsClientKey, 'tlsClientKey'),
    read(options.tlsClientCertificate, 'tlsClientCertificate'),
  );
}

function defaultRoots(): string[] {
  // tls.getCACertificates('system') exists from Node 22.15 / 23.5 on; on Node 20 NODE_EXTRA_CA_CERTS is the way.
  const list = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  return [...tls.rootCertificates, ...(list?.('system') ?? [])];
}
