/**
 * The parts of Bazel's build_event_stream.BuildEvent (Bazel 7) the listener reads, as protobufjs
 * decodes them (camelCase, int64 as strings, unset fields absent). Everything else is ignored.
 */
export interface BuildEventFile {
  readonly name?: string;
  readonly uri?: string;
  readonly pathPrefix?: readonly string[];
  /** Hex sha256 of the file (Bazel 7 sets it for outputs). */
  readonly digest?: string;
  readonly length?: string;
}

export interface NamedSetOfFilesId {
  readonly id?: string;
}

export interface TargetCompletedId {
  readonly label?: string;
  readonly configuration?: { readonly id?: string };
  readonly aspect?: string;
}

export interface BuildEventId {
  readonly targetConfigured?: { readonly label?: string; readonly aspect?: string };
  readonly namedSet?: NamedSetOfFilesId;
  readonly targetCompleted?: TargetCompletedId;
  readonly buildFinished?: Record<string, never>;
}

export interface BuildEvent {
  readonly id?: BuildEventId;
  readonly children?: readonly BuildEventId[];
  readonly lastMessage?: boolean;
  readonly configured?: { readonly targetKind?: string };
  readonly namedSetOfFiles?: {
    readonly files?: readonly BuildEventFile[];
    readonly fileSets?: readonly NamedSetOfFilesId[];
  };
  readonly completed?: {
    readonly success?: boolean;
    readonly outputGroup?: readonly {
      readonly name?: string;
      readonly fileSets?: readonly NamedSetOfFilesId[];
      readonly incomplete?: boolean;
    }[];
  };
  readonly started?: { readonly uuid?: string; readonly command?: string };
  readonly finished?: { readonly overallSuccess?: boolean };
}

/** The key of a TargetCompleted event: label, configuration and aspect. */
export function targetKey(id: TargetCompletedId): string {
  return JSON.stringify([id.label ?? '', id.configuration?.id ?? '', id.aspect ?? '']);
}
