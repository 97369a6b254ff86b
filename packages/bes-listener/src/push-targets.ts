import { type Digest, sha256FromHex } from '@img/oci-spec';
import { parseBytestreamUri } from '@img/remote-cache';
import { type BuildEvent, type BuildEventFile, targetKey } from './build-event.js';

/** TargetConfigured.target_kind of the rule whose completion means "push this image". */
export const PUSH_TARGET_KIND = 'image_push rule';
/** How the push request among an image_push target's default outputs is named (`<name>_bes_request.json`). */
export const PUSH_REQUEST_SUFFIX = '_bes_request.json';

/** Where a push target's request is: a blob of the remote cache (sha256, size), as the BEP names it. */
export interface PushRequestBlob {
  readonly digest: Digest;
  readonly size: number;
  /** The output's path below bazel-bin, for messages. */
  readonly name: string;
  /** The REAPI instance its `bytestream://` URI names, when it names one. */
  readonly instanceName?: string;
}

/** What one event means for the listener. */
export type PushTargetEvent =
  | { readonly kind: 'push'; readonly label: string; readonly request: PushRequestBlob }
  | { readonly kind: 'not-pushed'; readonly label: string; readonly reason: string };

export interface PushTargetTrackerOptions {
  /** Named sets remembered per stream (oldest dropped first). Default 200 000. */
  readonly maxNamedSets?: number;
  /** Push targets remembered per stream. Default 100 000. */
  readonly maxTargets?: number;
}

interface NamedSet {
  /** Only the files that can be push requests: the rest of a build's outputs is never needed. */
  readonly requests: readonly BuildEventFile[];
  readonly children: readonly string[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;

/** The blob of a request file from its BEP `File`: digest + length (Bazel 7), else its bytestream:// URI. */
export function requestBlob(file: BuildEventFile): PushRequestBlob | string {
  const name = [...(file.pathPrefix ?? []), file.name ?? ''].filter(Boolean).join('/');
  let instanceName: string | undefined;
  if (file.uri?.startsWith('bytestream://')) {
    try {
      const parsed = parseBytestreamUri(file.uri);
      instanceName = parsed.instanceName;
      if (!file.digest) return { digest: parsed.digest, size: parsed.size, name, instanceName };
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (file.digest && HEX64.test(file.digest) && file.length !== undefined && SIZE.test(String(file.length))) {
    return {
      digest: sha256FromHex(file.digest),
      size: Number(file.length),
      name,
      ...(instanceName !== undefined ? { instanceName } : {}),
    };
  }
  if (file.uri?.startsWith('file://'))
    return `${name} was not uploaded to a remote cache (${file.uri}); build with --remote_cache (or --remote_executor)`;
  return `${name} has no digest the listener can read (uri ${JSON.stringify(file.uri ?? '')})`;
}

/**
 * Follows one Build Event Protocol stream: remembers which targets are image_push rules
 * (TargetConfigured) and the named sets of files, and turns each push target's TargetCompleted into
 * the blob of its push request. Memory is bounded: named sets keep only candidate request files.
 */
export class PushTargetTracker {
  readonly #maxNamedSets: number;
  readonly #maxTargets: number;
  readonly #namedSets = new Map<string, NamedSet>();
  readonly #pushTargets = new Set<string>();

  constructor(options: PushTargetTrackerOptions = {}) {
    this.#maxNamedSets = options.maxNamedSets ?? 200_000;
    this.#maxTargets = options.maxTargets ?? 100_000;
  }

  /** Feed one event; returns what it means for a push, if anything. */
  onEvent(event: BuildEvent): PushTargetEvent | undefined {
    const id = event.id;
    if (id?.targetConfigured && event.configured?.targetKind === PUSH_TARGET_KIND) {
      for (const child of event.children ?? []) {
        if (child.targetCompleted && this.#pushTargets.size < this.#maxTargets)
          this.#pushTargets.add(targetKey(child.targetCompleted));
      }
      return undefined;
    }
    if (id?.namedSet?.id !== undefined && event.namedSetOfFiles) {
      this.#remember(id.namedSet.id, event.namedSetOfFiles);
      return undefined;
    }
    if (id?.targetCompleted) {
      const key = targetKey(id.targetCompleted);
      if (!this.#pushTargets.has(key)) return undefined;
      this.#pushTargets.delete(key);
      return this.#completed(id.targetCompleted.label ?? '', event);
    }
    return undefined;
  }

  #remember(setId: string, set: NonNullable<BuildEvent['namedSetOfFiles']>): void {
    if (this.#namedSets.size >= this.#maxNamedSets) {
      const oldest = this.#namedSets.keys().next().value;
      if (oldest !== undefined) this.#namedSets.delete(oldest);
    }
    this.#namedSets.set(setId, {
      requests: (set.files ?? []).filter((f) => f.name?.endsWith(PUSH_REQUEST_SUFFIX)),
      children: (set.fileSets ?? []).map((s) => s.id ?? '').filter(Boolean),
    });
  }

  #completed(label: string, event: BuildEvent): PushTargetEvent {
    const notPushed = (reason: string): PushTargetEvent => ({ kind: 'not-pushed', label, reason });
    if (event.completed?.success !== true) return notPushed('the target failed to build');
    const group = event.completed.outputGroup?.find((g) => g.name === 'default');
    if (!group) return notPushed('no default output group in its TargetCompleted event');
    const files = this.#requestFiles((group.fileSets ?? []).map((s) => s.id ?? ''));
    if (files === undefined) return notPushed('its outputs name a file set the stream never sent');
    if (files.length === 0) {
      return notPushed(
        `no *${PUSH_REQUEST_SUFFIX} among its outputs (not built with --@img_rules//img/settings:push_strategy=bes?)`,
      );
    }
    if (files.length > 1) return notPushed(`${files.length} push requests among its outputs, expected one`);
    const blob = requestBlob(files[0]!);
    return typeof blob === 'string' ? notPushed(blob) : { kind: 'push', label, request: blob };
  }

  /** Candidate request files of the named sets below `roots` (each set once); undefined when one is unknown. */
  #requestFiles(roots: readonly string[]): BuildEventFile[] | undefined {
    const out: BuildEventFile[] = [];
    const seen = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const set = this.#namedSets.get(id);
      if (!set) return undefined;
      out.push(...set.requests);
      queue.push(...set.children);
    }
    return out;
  }
}
