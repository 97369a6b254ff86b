import { describe, expect, it } from 'vitest';
import type { BuildEvent } from './build-event.js';
import { PushTargetTracker, requestBlob } from './push-targets.js';

const HEX = 'ab'.repeat(32);
const completedId = { label: '//a:push', configuration: { id: 'c1' } };

function configured(): BuildEvent {
  return {
    id: { targetConfigured: { label: '//a:push' } },
    children: [{ targetCompleted: completedId }],
    configured: { targetKind: 'image_push rule' },
  };
}

function completed(sets: string[]): BuildEvent {
  return {
    id: { targetCompleted: completedId },
    completed: { success: true, outputGroup: [{ name: 'default', fileSets: sets.map((id) => ({ id })) }] },
  };
}

describe('PushTargetTracker', () => {
  it('follows nested named sets (each once) to the one push request', () => {
    const t = new PushTargetTracker();
    t.onEvent(configured());
    t.onEvent({
      id: { namedSet: { id: 'leaf' } },
      namedSetOfFiles: { files: [{ name: 'push_bes_request.json', digest: HEX, length: '12' }] },
    });
    t.onEvent({
      id: { namedSet: { id: 'top' } },
      namedSetOfFiles: {
        files: [{ name: 'push.sh', digest: HEX, length: '1' }],
        fileSets: [{ id: 'leaf' }, { id: 'leaf' }],
      },
    });
    expect(t.onEvent(completed(['top', 'leaf']))).toEqual({
      kind: 'push',
      label: '//a:push',
      request: { digest: `sha256:${HEX}`, size: 12, name: 'push_bes_request.json' },
    });
    // Reported once: a second TargetCompleted of the same target is not a push target any more.
    expect(t.onEvent(completed(['top']))).toBeUndefined();
  });

  it('names what is wrong: an unknown set, two requests', () => {
    const t = new PushTargetTracker();
    t.onEvent(configured());
    expect(t.onEvent(completed(['missing']))).toMatchObject({
      kind: 'not-pushed',
      reason: expect.stringContaining('never sent'),
    });
    t.onEvent(configured());
    t.onEvent({
      id: { namedSet: { id: 's' } },
      namedSetOfFiles: { files: [{ name: 'a_bes_request.json' }, { name: 'b_bes_request.json' }] },
    });
    expect(t.onEvent(completed(['s']))).toMatchObject({
      reason: '2 push requests among its outputs, expected one',
    });
  });

  it('keeps at most maxNamedSets sets (oldest dropped)', () => {
    const t = new PushTargetTracker({ maxNamedSets: 2 });
    t.onEvent(configured());
    for (const id of ['1', '2', '3']) t.onEvent({ id: { namedSet: { id } }, namedSetOfFiles: { files: [] } });
    expect(t.onEvent(completed(['1']))).toMatchObject({ kind: 'not-pushed' });
  });
});

describe('requestBlob', () => {
  it('reads a bytestream:// URI (instance included) when there is no digest field', () => {
    expect(requestBlob({ name: 'x', uri: `bytestream://cache:1/main/blobs/${HEX}/7` })).toEqual({
      digest: `sha256:${HEX}`,
      size: 7,
      name: 'x',
      instanceName: 'main',
    });
  });

  it('refuses malformed digests and URIs with a reason', () => {
    expect(requestBlob({ name: 'x', digest: 'nothex', length: '1' })).toMatch(
      /no digest the listener can read/,
    );
    expect(requestBlob({ name: 'x', uri: 'bytestream://h/blobs/zz/1' })).toMatch(/bytestream URI/);
  });
});
