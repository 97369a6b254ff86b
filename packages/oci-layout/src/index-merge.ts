import { asIndex, canonicalJsonBytes, type Descriptor, type Index, parseJson } from '@img/oci-spec';
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION } from './write-layout.js';

function names(d: Descriptor): Array<string | undefined> {
  return [d.annotations?.[REF_NAME_ANNOTATION], d.annotations?.[CONTAINERD_NAME_ANNOTATION]];
}

/** Does `added` take the place of `old`: the same tag or image name, or both unnamed and the same digest. */
function replaces(added: Descriptor, old: Descriptor): boolean {
  const [ref, image] = names(added);
  const [oldRef, oldImage] = names(old);
  if (ref !== undefined && ref === oldRef) return true;
  if (image !== undefined && image === oldImage) return true;
  return ref === undefined && image === undefined && oldRef === undefined && oldImage === undefined
    ? added.digest === old.digest
    : false;
}

/**
 * The entries of a layout index after adding `added` (appended): an old entry with the same ref name
 * (tag) or containerd image name is dropped, an unnamed old entry of the same digest too; every
 * other entry is kept, in its order.
 */
export function mergeIndexEntries(
  existing: readonly Descriptor[],
  added: readonly Descriptor[],
): Descriptor[] {
  const kept = existing.filter((old) => !added.some((a) => replaces(a, old)));
  return [...kept, ...added];
}

/**
 * The bytes of a layout's index.json after writing `addedBytes` (an index.json for the new image)
 * into a layout whose index.json is `existingBytes` (absent for a new layout). Fields of the existing
 * index other than its entries are kept.
 */
export function mergeLayoutIndex(
  existingBytes: Uint8Array | undefined,
  addedBytes: Uint8Array,
  where: string,
): Buffer {
  const added = asIndex(parseJson(addedBytes, 'new index.json'), 'new index.json');
  if (!existingBytes) return canonicalJsonBytes(added, 'index');
  const existing = asIndex(parseJson(existingBytes, where), where);
  const merged: Index = { ...existing, manifests: mergeIndexEntries(existing.manifests, added.manifests) };
  return canonicalJsonBytes(merged, 'index');
}

/** Two JSON objects keyed by digest (img-sources.json) as one; entries of `addedBytes` win. */
export function mergeJsonMaps(
  existingBytes: Uint8Array | undefined,
  addedBytes: Uint8Array,
  where: string,
): Buffer {
  const added = parseJson(addedBytes, 'new sources') as Record<string, unknown>;
  const existing = existingBytes ? parseJson(existingBytes, where) : {};
  if (typeof existing !== 'object' || existing === null || Array.isArray(existing)) {
    return canonicalJsonBytes(added);
  }
  return canonicalJsonBytes({ ...(existing as Record<string, unknown>), ...added });
}
