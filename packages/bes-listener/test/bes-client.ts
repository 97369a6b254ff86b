import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoDir as findReapiProtoDir } from '@img/remote-cache';
import protobuf from 'protobufjs';
import { findProtoDir } from '../src/index.js';
import { BUILD_EVENT_STREAM_PROTO, SERVICE_PROTO } from '../src/proto-dir.js';

/** A test driver playing Bazel's side of the Build Event Service (what `--bes_backend` does). */
const protoDir = findProtoDir();
const includeDirs = [protoDir, findReapiProtoDir()];
const definition = protoLoader.loadSync([SERVICE_PROTO], {
  includeDirs,
  keepCase: true,
  longs: String,
  enums: String,
});
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  google: { devtools: { build: { v1: { PublishBuildEvent: grpc.ServiceClientConstructor } } } };
};
const root = new protobuf.Root();
root.resolvePath = (_origin, target) =>
  includeDirs.map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? join(protoDir, target);
root.loadSync(BUILD_EVENT_STREAM_PROTO);
const BuildEvent = root.lookupType('build_event_stream.BuildEvent');

export function encodeBuildEvent(event: object): Buffer {
  return Buffer.from(BuildEvent.encode(BuildEvent.fromObject(event)).finish());
}

export interface Ack {
  readonly sequence_number: string;
  readonly stream_id?: { invocation_id?: string };
}

export interface PlayOptions {
  readonly invocationId?: string;
  /** Start numbering at this sequence number (a resumed stream). Default 1. */
  readonly firstSequence?: number;
  /** Send component_stream_finished after the events. Default true. */
  readonly finish?: boolean;
  /** Raw `bazel_event` payloads (type URL and bytes) instead of encoding. */
  readonly raw?: boolean;
}

type Payload = object | { readonly type_url: string; readonly value: Buffer };

/** Sends the events on one PublishBuildToolEventStream call; resolves to the acks once the server ends it. */
export async function playStream(
  address: string,
  events: readonly Payload[],
  options: PlayOptions = {},
): Promise<Ack[]> {
  const client = new loaded.google.devtools.build.v1.PublishBuildEvent(
    address,
    grpc.credentials.createInsecure(),
  );
  try {
    const streamId = {
      build_id: 'build-1',
      invocation_id: options.invocationId ?? 'inv-1',
      component: 'TOOL',
    };
    const call = client.PublishBuildToolEventStream() as grpc.ClientDuplexStream<object, Ack>;
    const acks: Ack[] = [];
    const done = new Promise<Ack[]>((resolve, reject) => {
      call.on('data', (ack: Ack) => acks.push(ack));
      call.on('end', () => resolve(acks));
      call.on('error', reject);
    });
    let seq = options.firstSequence ?? 1;
    const send = (event: object) =>
      call.write({ ordered_build_event: { stream_id: streamId, sequence_number: String(seq++), event } });
    for (const e of events) {
      const bazelEvent =
        options.raw || 'type_url' in e
          ? e
          : { type_url: 'type.googleapis.com/build_event_stream.BuildEvent', value: encodeBuildEvent(e) };
      send({ bazel_event: bazelEvent });
    }
    if (options.finish !== false) send({ component_stream_finished: { type: 'FINISHED' } });
    call.end();
    return await done;
  } finally {
    client.close();
  }
}

/** The events Bazel sends for one image_push target, its request being the blob `digest`/`size`. */
export function pushTargetEvents(
  label: string,
  request: { digest: string; size: number },
  options: { setId?: string; success?: boolean; name?: string; uri?: string } = {},
): object[] {
  const setId = options.setId ?? '0';
  const completedId = { label, configuration: { id: 'cfg' } };
  const hex = request.digest.replace(/^sha256:/, '');
  return [
    {
      id: { targetConfigured: { label } },
      children: [{ targetCompleted: completedId }],
      configured: { targetKind: 'image_push rule' },
    },
    {
      id: { namedSet: { id: setId } },
      namedSetOfFiles: {
        files: [
          {
            name: options.name ?? `${label.split(':')[1]}_bes_request.json`,
            pathPrefix: ['bazel-out', 'k8-fastbuild', 'bin'],
            uri: options.uri ?? `bytestream://127.0.0.1:1/blobs/${hex}/${request.size}`,
            digest: hex,
            length: String(request.size),
          },
        ],
      },
    },
    {
      id: { targetCompleted: completedId },
      completed: {
        success: options.success ?? true,
        outputGroup: [{ name: 'default', fileSets: [{ id: setId }] }],
      },
    },
  ];
}
