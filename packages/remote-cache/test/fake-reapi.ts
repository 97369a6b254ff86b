import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { findProtoDir } from '../src/proto-dir.js';
import { loadServices } from '../src/services.js';

export interface FakeReapiOptions {
  /** What GetCapabilities offers. Default ['SHA256']. */
  readonly digestFunctions?: readonly string[];
  /** The first upload fails with UNAVAILABLE once the server has committed this many bytes. */
  readonly breakFirstWriteAfter?: number;
}

export interface FakeReapi {
  readonly endpoint: string;
  /** Uploaded blobs by sha256 hex. */
  readonly blobs: Map<string, Buffer>;
  close(): Promise<void>;
}

/**
 * A tiny in-repo REAPI server for the faults BuildGrid 0.4.4 cannot show (a cache without sha256,
 * QueryWriteStatus with a committed offset). Tests against BuildGrid cover everything else.
 */
export async function startFakeReapi(options: FakeReapiOptions = {}): Promise<FakeReapi> {
  const services = loadServices(findProtoDir());
  const server = new grpc.Server();
  const blobs = new Map<string, Buffer>();
  const committed = new Map<string, Buffer[]>();
  let broken = false;
  const size = (resource: string) => (committed.get(resource) ?? []).reduce((n, b) => n + b.length, 0);
  server.addService(services.capabilities.service, {
    GetCapabilities: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, {
        cache_capabilities: {
          digest_functions: options.digestFunctions ?? ['SHA256'],
          max_batch_total_size_bytes: 4193280,
        },
      }),
  });
  server.addService(services.bytestream.service, {
    QueryWriteStatus: (
      call: grpc.ServerUnaryCall<{ resource_name: string }, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      const name = call.request.resource_name;
      if (!committed.has(name)) return cb({ code: grpc.status.NOT_FOUND, details: name });
      const hash = /blobs\/([0-9a-f]{64})\//.exec(name)?.[1] ?? '';
      cb(null, { committed_size: size(name), complete: blobs.has(hash) });
    },
    Write: (
      call: grpc.ServerReadableStream<
        { resource_name: string; write_offset: number; finish_write: boolean; data: Buffer },
        unknown
      >,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      let resource = '';
      let done = false;
      const fail = (code: grpc.status, details: string) => {
        if (done) return;
        done = true;
        cb({ code, details });
      };
      call.on('data', (req) => {
        if (done) return;
        if (resource === '') resource = req.resource_name;
        const parts = committed.get(resource) ?? [];
        committed.set(resource, parts);
        if (Number(req.write_offset) !== size(resource))
          return fail(grpc.status.INVALID_ARGUMENT, `offset ${req.write_offset} != ${size(resource)}`);
        parts.push(Buffer.from(req.data));
        if (
          !broken &&
          options.breakFirstWriteAfter !== undefined &&
          size(resource) >= options.breakFirstWriteAfter
        ) {
          broken = true;
          return fail(grpc.status.UNAVAILABLE, 'fault injected by the test');
        }
        if (req.finish_write) {
          const data = Buffer.concat(parts);
          const [, hash, expected] = /blobs\/([0-9a-f]{64})\/(\d+)$/.exec(resource) ?? [];
          if (createHash('sha256').update(data).digest('hex') !== hash || data.length !== Number(expected)) {
            return fail(grpc.status.INVALID_ARGUMENT, 'digest mismatch');
          }
          blobs.set(hash!, data);
          done = true;
          cb(null, { committed_size: data.length });
        }
      });
      call.on('error', () => {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    endpoint: `grpc://127.0.0.1:${port}`,
    blobs,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
