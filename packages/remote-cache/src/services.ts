import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_FILES = [
  'build/bazel/remote/execution/v2/remote_execution.proto',
  'google/bytestream/bytestream.proto',
];

export interface ReapiServices {
  readonly capabilities: grpc.ServiceClientConstructor;
  readonly cas: grpc.ServiceClientConstructor;
  readonly bytestream: grpc.ServiceClientConstructor;
}

/** Full gRPC service names, as Bazel puts them in the URI it hands to credential helpers. */
export const SERVICE_NAMES = {
  capabilities: 'build.bazel.remote.execution.v2.Capabilities',
  cas: 'build.bazel.remote.execution.v2.ContentAddressableStorage',
  bytestream: 'google.bytestream.ByteStream',
} as const satisfies Record<keyof ReapiServices, string>;

const loaded = new Map<string, ReapiServices>();

/** The REAPI service constructors, parsed once per proto directory. */
export function loadServices(protoDir: string): ReapiServices {
  let services = loaded.get(protoDir);
  if (services === undefined) {
    const definition = protoLoader.loadSync(PROTO_FILES, {
      includeDirs: [protoDir],
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
    });
    const root = grpc.loadPackageDefinition(definition) as unknown as {
      build: { bazel: { remote: { execution: { v2: Record<string, grpc.ServiceClientConstructor> } } } };
      google: { bytestream: Record<string, grpc.ServiceClientConstructor> };
    };
    const v2 = root.build.bazel.remote.execution.v2;
    services = {
      capabilities: v2.Capabilities!,
      cas: v2.ContentAddressableStorage!,
      bytestream: root.google.bytestream.ByteStream!,
    };
    loaded.set(protoDir, services);
  }
  return services;
}
