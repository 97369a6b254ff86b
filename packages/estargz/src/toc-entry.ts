import type { TarEntryInfo, TarEntryType } from '@img/layer-writer/internal';
import { unixToRfc3339 } from '@img/oci-spec';
import type { TocEntry, TocEntryType } from './toc.js';

const TOC_TYPE: Record<TarEntryType, TocEntryType> = {
  file: 'reg',
  hardlink: 'hardlink',
  symlink: 'symlink',
  directory: 'dir',
  char: 'char',
  block: 'block',
  fifo: 'fifo',
};
const XATTR_PREFIX = 'SCHILY.xattr.';

/**
 * Turns tar headers into TOC entries (metadata only; the writer adds offsets and digests), following
 * the reference writer: zero values omitted, user/group names only when they change for an id.
 */
export class TocEntryFactory {
  readonly #lastUser = new Map<number, string>();
  readonly #lastGroup = new Map<number, string>();

  entryFor(info: TarEntryInfo): TocEntry {
    const type = TOC_TYPE[info.type];
    const entry: TocEntry = { name: info.name, type };
    if (type === 'reg' && info.size > 0) entry.size = info.size;
    // As the reference writer: whole seconds, a PAX fraction rounded (time.Round(time.Second)).
    if (info.mtime !== 0) {
      const exact = info.paxMtime === undefined ? info.mtime : Math.round(Number.parseFloat(info.paxMtime));
      entry.modtime = unixToRfc3339(exact);
    }
    if ((type === 'symlink' || type === 'hardlink') && info.linkname !== '') entry.linkName = info.linkname;
    if (info.mode !== 0) entry.mode = info.mode;
    if (info.uid !== 0) entry.uid = info.uid;
    if (info.gid !== 0) entry.gid = info.gid;
    const user = nameIfChanged(this.#lastUser, info.uid, info.uname);
    if (user !== '') entry.userName = user;
    const group = nameIfChanged(this.#lastGroup, info.gid, info.gname);
    if (group !== '') entry.groupName = group;
    if (type === 'char' || type === 'block') {
      if (info.devmajor !== 0) entry.devMajor = info.devmajor;
      if (info.devminor !== 0) entry.devMinor = info.devminor;
    }
    const xattrs: Record<string, string> = {};
    // Values are bytes (Go's []byte): UTF-8 text as its bytes, binary values (capabilities) verbatim.
    for (const records of [info.paxRecords, info.binaryPaxRecords ?? {}]) {
      for (const [key, value] of Object.entries(records)) {
        if (key.startsWith(XATTR_PREFIX)) {
          xattrs[key.slice(XATTR_PREFIX.length)] = Buffer.from(value).toString('base64');
        }
      }
    }
    if (Object.keys(xattrs).length > 0) entry.xattrs = xattrs;
    return entry;
  }
}

function nameIfChanged(last: Map<number, string>, id: number, name: string): string {
  if (name === '' || last.get(id) === name) return '';
  last.set(id, name);
  return name;
}
