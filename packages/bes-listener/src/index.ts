export type { BuildEvent, BuildEventFile } from './build-event.js';
export type { ReadCasImageOptions, ReadDocument } from './cas-image.js';
export { readCasImage } from './cas-image.js';
export type { CasPushCommitterOptions, CasPushRequest, ParsePushRequest } from './cas-push.js';
export { casPushCommitter, DEFAULT_UPLOAD_GRACE_MS } from './cas-push.js';
export type { BesErrorCode } from './errors.js';
export { BesError } from './errors.js';
export { findProtoDir, PROTO_DIR_ENV } from './proto-dir.js';
export type {
  PushCommitter,
  PushEvent,
  PushJob,
  PushOutcome,
  PushQueueOptions,
  PushRetryOptions,
} from './push-queue.js';
export { DEFAULT_PUSH_RETRY, isTransientPushError, PUSH_CHANNEL, PushQueue } from './push-queue.js';
export type { PushRequestBlob, PushTargetEvent, PushTargetTrackerOptions } from './push-targets.js';
export { PUSH_REQUEST_SUFFIX, PUSH_TARGET_KIND, PushTargetTracker } from './push-targets.js';
export type { BesListener, BesListenerOptions, StreamEvent } from './server.js';
export { STREAM_CHANNEL, startBesListener } from './server.js';
