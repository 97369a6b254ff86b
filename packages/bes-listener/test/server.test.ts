import { createHash } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { playStream, pushTargetEvents } from './bes-client.js';
import {
  type BesListener,
  PUSH_CHANNEL,
  type PushEvent,
  type PushJob,
  RemoteCacheLikeError,
  startBesListener,
} from './server-helpers.js';

function blob(text: string) {
  const bytes = Buffer.from(text);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

const OUTCOME = { references: ['r/x:1@sha256:0'], blobsUploaded: 0, bytesUploaded: 0, manifestsPushed: 1 };

function recordPushEvents(): PushEvent[] {
  const events: PushEvent[] = [];
  const listener = (m: unknown) => events.push(m as PushEvent);
  beforeEach(() => {
    events.length = 0;
    diagnostics.subscribe(PUSH_CHANNEL, listener);
  });
  afterEach(() => diagnostics.unsubscribe(PUSH_CHANNEL, listener));
  return events;
}

describe('BES listener', () => {
  let listener: BesListener | undefined;
  afterEach(async () => {
    await listener?.close({ graceMs: 1000 });
    listener = undefined;
  });
  const pushEvents = recordPushEvents();

  it('acknowledges every event in order, unreadable ones too, and pushes a completed image_push target once', async () => {
    const jobs: PushJob[] = [];
    listener = await startBesListener({
      commit: async (job) => {
        jobs.push(job);
        return OUTCOME;
      },
    });
    const request = blob('{"command":"push"}');
    const events = [
      { id: { started: {} }, started: { uuid: 'inv-1', command: 'build' } },
      {
        type_url: 'type.googleapis.com/build_event_stream.BuildEvent',
        value: Buffer.from([0xff, 0xff, 0xff]),
      },
      { type_url: 'type.googleapis.com/something.Else', value: Buffer.from('x') },
      ...pushTargetEvents('//app:push', request),
      { id: { buildFinished: {} }, finished: { overallSuccess: true }, lastMessage: true },
    ];
    const acks = await playStream(listener.address, events);
    expect(acks.map((a) => Number(a.sequence_number))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(acks.every((a) => a.stream_id?.invocation_id === 'inv-1')).toBe(true);
    await listener.idle();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      label: '//app:push',
      invocationId: 'inv-1',
      request: { digest: request.digest, size: request.size, instanceName: '' },
    });
    expect(jobs[0]!.request.name).toBe('bazel-out/k8-fastbuild/bin/push_bes_request.json');
    expect(pushEvents.map((e) => e.state)).toEqual(['started', 'pushed']);
  });

  it('pushes nothing for a failed target, another kind of target or one without a request, and says why', async () => {
    const jobs: PushJob[] = [];
    listener = await startBesListener({
      commit: async (job) => {
        jobs.push(job);
        return OUTCOME;
      },
    });
    const request = blob('r');
    const other = pushTargetEvents('//app:lib', request, { setId: '2' });
    (other[0] as { configured: { targetKind: string } }).configured.targetKind = 'cc_library rule';
    await playStream(listener.address, [
      ...pushTargetEvents('//app:broken', request, { success: false, setId: '1' }),
      ...other,
      ...pushTargetEvents('//app:eager', request, { setId: '3', name: 'eager_request.json' }),
      ...pushTargetEvents('//app:local', request, {
        setId: '4',
        uri: 'file:///tmp/x_bes_request.json',
      }).map((e) => {
        const files = (e as { namedSetOfFiles?: { files: Array<{ digest?: string }> } }).namedSetOfFiles
          ?.files;
        if (files) for (const f of files) delete f.digest;
        return e;
      }),
    ]);
    await listener.idle();
    expect(jobs).toEqual([]);
    const reasons = pushEvents.map((e) => (e.state === 'not-pushed' ? `${e.label}: ${e.reason}` : e.state));
    expect(reasons).toEqual([
      '//app:broken: the target failed to build',
      expect.stringMatching(/^\/\/app:eager: no \*_bes_request.json among its outputs/),
      expect.stringMatching(/^\/\/app:local: .*local_bes_request.json was not uploaded to a remote cache/),
    ]);
  });

  it('a push that fails never fails the stream; transient errors are retried, others are not', async () => {
    let calls = 0;
    listener = await startBesListener({
      retry: { initialDelayMs: 10 },
      commit: async (job) => {
        if (job.label === '//app:flaky' && ++calls < 3)
          throw new RemoteCacheLikeError('IMG_REMOTE_CACHE_RPC');
        if (job.label === '//app:bad') throw new RemoteCacheLikeError('IMG_BES_PUSH_REQUEST');
        return OUTCOME;
      },
    });
    const acks = await playStream(listener.address, [
      ...pushTargetEvents('//app:flaky', blob('a'), { setId: '1' }),
      ...pushTargetEvents('//app:bad', blob('b'), { setId: '2' }),
    ]);
    expect(acks).toHaveLength(7);
    await listener.idle();
    const summary = pushEvents
      .filter((e) => e.state !== 'started')
      .map((e) => `${'job' in e ? e.job.label : ''} ${e.state}`);
    expect(summary.sort()).toEqual(
      ['//app:bad failed', '//app:flaky pushed', '//app:flaky retrying', '//app:flaky retrying'].sort(),
    );
  });

  it('one push per request at a time: the same request from two builds joins the running push', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let commits = 0;
    listener = await startBesListener({
      commit: async () => {
        commits++;
        await gate;
        return OUTCOME;
      },
    });
    const request = blob('same');
    await playStream(listener.address, pushTargetEvents('//a:push', request), { invocationId: 'one' });
    await playStream(listener.address, pushTargetEvents('//a:push', request), { invocationId: 'two' });
    release();
    await listener.idle();
    expect(commits).toBe(1);
    expect(pushEvents.map((e) => e.state)).toEqual(['started', 'joined', 'pushed']);
  });

  it('background mode ends the stream before the push; per-stream mode waits for it', async () => {
    for (const commitMode of ['background', 'per-stream'] as const) {
      let finished = false;
      listener = await startBesListener({
        commitMode,
        commit: async () => {
          await new Promise((r) => setTimeout(r, 300));
          finished = true;
          return OUTCOME;
        },
      });
      await playStream(listener.address, pushTargetEvents('//a:push', blob(commitMode)));
      expect(finished).toBe(commitMode === 'per-stream');
      await listener.close();
      listener = undefined;
    }
  });

  it('a stream resumed after a broken connection keeps what the first one said', async () => {
    const jobs: PushJob[] = [];
    listener = await startBesListener({
      commit: async (job) => {
        jobs.push(job);
        return OUTCOME;
      },
    });
    const events = pushTargetEvents('//a:push', blob('resumed'));
    await playStream(listener.address, events.slice(0, 2), { finish: false });
    await playStream(listener.address, events.slice(2), { firstSequence: 3 });
    await listener.idle();
    expect(jobs.map((j) => j.label)).toEqual(['//a:push']);
  });

  it('refuses a port it cannot listen on, naming it', async () => {
    listener = await startBesListener({ commit: async () => OUTCOME });
    await expect(
      startBesListener({ commit: async () => OUTCOME, port: listener.port }),
    ).rejects.toMatchObject({
      code: 'IMG_BES_LISTEN',
      message: expect.stringContaining(`127.0.0.1:${listener.port}`),
    });
  });
});
