/** One step into a JSON document: an object key or an array index. */
export type KeySegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A key path as a user reads it in the spec: `layers[1].directories["/app"].excludes[2]`
 * (indexes in brackets, identifier keys after dots, any other key quoted in brackets).
 */
export function formatKeyPath(segments: readonly KeySegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The segments of a JSON pointer (`/layers/0/metadata/~1app`), indexes where `doc` has arrays. */
export function pointerSegments(pointer: string, doc: unknown): KeySegment[] {
  if (pointer === '') return [];
  const out: KeySegment[] = [];
  let node = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(key));
      node = node[Number(key)];
    } else {
      out.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

/** `spec.json: layers[0].compress` (or `spec.json` alone for the whole document). */
export function atKeyPath(file: string, segments: readonly KeySegment[]): string {
  return segments.length === 0 ? file : `${file}: ${formatKeyPath(segments)}`;
}
