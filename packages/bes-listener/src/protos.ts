import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoDir as findReapiProtoDir } from '@img/remote-cache';
import protobuf from 'protobufjs';
import { BUILD_EVENT_STREAM_PROTO, SERVICE_PROTO } from './proto-dir.js';

/** What the server needs from the protos: the service and a decoder of Bazel's events. */
export interface BesProtos {
  /** google.devtools.build.v1.PublishBuildEvent, for grpc.Server#addService. */
  readonly service: grpc.ServiceDefinition;
  /** Decodes the bytes of a `bazel_event` (build_event_stream.BuildEvent) to a plain object. */
  decodeBuildEvent(bytes: Uint8Array): unknown;
}

const loaded = new Map<string, BesProtos>();

/**
 * Parsed once per proto directory. The `google/api` and `google/protobuf` files they import are the
 * ones @img/remote-cache vendors (the same google-proto-files release), found as it finds them.
 */
export function loadBesProtos(protoDir: string): BesProtos {
  let protos = loaded.get(protoDir);
  if (protos !== undefined) return protos;
  const includeDirs = [protoDir, findReapiProtoDir()];
  const definition = protoLoader.loadSync([SERVICE_PROTO], {
    includeDirs,
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
  });
  const service = definition['google.devtools.build.v1.PublishBuildEvent'] as grpc.ServiceDefinition;

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    includeDirs.map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? join(protoDir, target);
  root.loadSync(BUILD_EVENT_STREAM_PROTO);
  const BuildEvent = root.lookupType('build_event_stream.BuildEvent');
  protos = {
    service,
    decodeBuildEvent: (bytes) =>
      BuildEvent.toObject(BuildEvent.decode(bytes), { longs: String, enums: String, defaults: false }),
  };
  loaded.set(protoDir, protos);
  return protos;
}
