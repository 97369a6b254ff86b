import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ImgError } from '@img/oci-spec';
import { LoadError } from '../errors.js';
import { findProtoDir } from '../proto-dir.js';

const API = 'github.com/containerd/containerd/api/services';
const PROTO_FILES = [
  `${API}/content/v1/content.proto`,
  `${API}/images/v1/images.proto`,
  `${API}/leases/v1/leases.proto`,
  `${API}/snapshots/v1/snapshots.proto`,
  `${API}/version/v1/version.proto`,
];

/** gRPC metadata keys containerd reads. */
export const NAMESPACE_HEADER = 'containerd-namespace';
export const LEASE_HEADER = 'containerd-lease';

type ServiceCtor = grpc.ServiceClientConstructor;
interface Services {
  content: ServiceCtor;
  images: ServiceCtor;
  leases: ServiceCtor;
  snapshots: ServiceCtor;
  version: ServiceCtor;
}

const loaded = new Map<string, Services>();

function loadServices(protoDir: string): Services {
  let s = loaded.get(protoDir);
  if (!s) {
    const definition = protoLoader.loadSync(PROTO_FILES, {
      includeDirs: [protoDir],
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
    });
    const root = grpc.loadPackageDefinition(definition) as unknown as {
      containerd: { services: Record<string, { v1: Record<string, ServiceCtor> }> };
    };
    const svc = root.containerd.services;
    s = {
      content: svc.content!.v1.Content!,
      images: svc.images!.v1.Images!,
      leases: svc.leases!.v1.Leases!,
      snapshots: svc.snapshots!.v1.Snapshots!,
      version: svc.version!.v1.Version!,
    };
    loaded.set(protoDir, s);
  }
  return s;
}

export interface ContainerdClientOptions {
  /** containerd's gRPC unix socket path (or a `unix://` URL). */
  readonly address: string;
  /** containerd namespace sent with every call. */
  readonly namespace: string;
  /** Directory of the vendored protos (default: found by findProtoDir). */
  readonly protoDir?: string;
}

type Unary = (
  req: unknown,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

/** Thin promise wrapper over containerd's content, images, leases, snapshots and version services on one channel. */
export class ContainerdClient {
  readonly address: string;
  readonly namespace: string;
  readonly #clients: Record<keyof Services, grpc.Client>;

  constructor(options: ContainerdClientOptions) {
    const services = loadServices(findProtoDir(options.protoDir));
    this.address = options.address.replace(/^unix:\/\//, '');
    this.namespace = options.namespace;
    const target = `unix://${this.address}`;
    const credentials = grpc.credentials.createInsecure();
    const channelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    const content = new services.content(target, credentials, channelOptions);
    const shared = { ...channelOptions, channelOverride: content.getChannel() } as grpc.ClientOptions;
    this.#clients = {
      content,
      images: new services.images(target, credentials, shared),
      leases: new services.leases(target, credentials, shared),
      snapshots: new services.snapshots(target, credentials, shared),
      version: new services.version(target, credentials, shared),
    };
  }

  metadata(lease?: string): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(NAMESPACE_HEADER, this.namespace);
    if (lease) md.set(LEASE_HEADER, lease);
    return md;
  }

  /** Call a unary method; gRPC failures become ServiceErrors (see rpcError for mapping). */
  call<T>(service: keyof Services, method: string, request: unknown, lease?: string): Promise<T> {
    const client = this.#clients[service] as unknown as Record<string, Unary>;
    const fn = client[method];
    if (!fn) throw new Error(`containerd ${service} has no method ${method}`);
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, this.metadata(lease), (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  /** Open a bidirectional Content.Write stream. */
  openWrite(lease?: string): grpc.ClientDuplexStream<unknown, unknown> {
    const client = this.#clients.content as unknown as {
      Write(md: grpc.Metadata): grpc.ClientDuplexStream<unknown, unknown>;
    };
    return client.Write(this.metadata(lease));
  }

  /** containerd's version: a cheap call that checks the socket answers. */
  async version(): Promise<{ version: string; revision: string }> {
    try {
      return await this.call('version', 'Version', {});
    } catch (err) {
      throw rpcError(err, `containerd at ${this.address}`);
    }
  }

  close(): void {
    for (const c of Object.values(this.#clients)) c.close();
  }
}

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    typeof (err as { code: unknown }).code === 'number' &&
    'metadata' in err
  );
}

export function hasCode(err: unknown, code: grpc.status): boolean {
  return isServiceError(err) && err.code === code;
}

/** A LoadError for a failed containerd call, naming what was being done. */
export function rpcError(err: unknown, what: string): LoadError {
  if (err instanceof LoadError) return err;
  if (err instanceof ImgError) {
    // A source stream that failed its digest or size check (createVerifyStream).
    if (/DIGEST_MISMATCH|SIZE_MISMATCH/.test(err.code)) {
      return new LoadError('IMG_LOAD_DIGEST_MISMATCH', `${what}: ${err.message}`, { cause: err });
    }
    return err as LoadError;
  }
  if (isServiceError(err)) {
    if (
      err.code === grpc.status.UNAVAILABLE &&
      /connect|No connection|ENOENT|ECONNREFUSED|EACCES/i.test(err.details)
    ) {
      return new LoadError('IMG_LOAD_CONNECT', `${what}: cannot connect to containerd (${err.details})`, {
        cause: err,
      });
    }
    if (err.code === grpc.status.FAILED_PRECONDITION && /digest|size/i.test(err.details)) {
      return new LoadError(
        'IMG_LOAD_DIGEST_MISMATCH',
        `${what}: containerd rejected the content: ${err.details}`,
        { cause: err },
      );
    }
    return new LoadError('IMG_LOAD_RPC', `${what}: ${grpc.status[err.code] ?? err.code}: ${err.details}`, {
      cause: err,
    });
  }
  return new LoadError('IMG_LOAD_RPC', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export { grpc };
