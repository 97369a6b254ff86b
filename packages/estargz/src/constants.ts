/** Name of the TOC's tar entry (gzip eStargz). */
export const TOC_TAR_NAME = 'stargz.index.json';
/** Size of the eStargz footer: an empty gzip member whose extra field holds the TOC offset. */
export const FOOTER_SIZE = 51;
/** Size of the footer of original (pre-eStargz) stargz blobs; read, never written. */
export const LEGACY_FOOTER_SIZE = 47;
/** zstd:chunked footer payload (stargz-snapshotter layout), inside an 8-byte skippable frame header. */
export const ZSTD_CHUNKED_FOOTER_SIZE = 40;
export const ZSTD_SKIPPABLE_FRAME_HEADER_SIZE = 8;
/** zstd:chunked footer payload of containers/storage (manifest and tar-split positions, magic). */
export const CS_ZSTD_CHUNKED_FOOTER_SIZE = 64;

/** Layer descriptor annotation with the digest of the TOC JSON; the snapshotter verifies against it. */
export const TOC_DIGEST_ANNOTATION = 'containerd.io/snapshot/stargz/toc.digest';
/** Layer descriptor annotation with the decimal size of the uncompressed layer (containers/storage). */
export const UNCOMPRESSED_SIZE_ANNOTATION = 'io.containers.estargz.uncompressed-size';
/** zstd:chunked annotations as stargz-snapshotter writes them. */
export const ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION = 'io.containers.zstd-chunked.manifest-checksum';
export const ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION = 'io.containers.zstd-chunked.manifest-position';
/** zstd:chunked annotations as containers/storage writes (and podman reads) them. */
export const CS_MANIFEST_CHECKSUM_ANNOTATION = 'io.github.containers.zstd-chunked.manifest-checksum';
export const CS_MANIFEST_POSITION_ANNOTATION = 'io.github.containers.zstd-chunked.manifest-position';
export const CS_TARSPLIT_CHECKSUM_ANNOTATION = 'io.github.containers.zstd-chunked.tarsplit-checksum';
export const CS_TARSPLIT_POSITION_ANNOTATION = 'io.github.containers.zstd-chunked.tarsplit-position';

/** Marks the end of the prioritized files: the runtime prefetches everything before it. */
export const PREFETCH_LANDMARK = '.prefetch.landmark';
/** First entry of a layer without prioritized files: nothing is prefetched. */
export const NO_PREFETCH_LANDMARK = '.no.prefetch.landmark';
/** Content of a landmark file (one byte). */
export const LANDMARK_CONTENTS = 0x0f;

/** Default size of file chunks; larger files are split into chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
/** Default minimum member size; 0 puts every file payload into its own member (see README). */
export const DEFAULT_MIN_CHUNK_SIZE = 0;

/** sha256 of zero bytes, the digest of every empty regular file. */
export const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Largest TOC (uncompressed JSON, and its compressed form) a reader accepts. A TOC entry takes about
 * 200-300 bytes, so this allows a few hundred thousand files; parsing costs a few times this in memory.
 */
export const DEFAULT_MAX_TOC_SIZE = 64 * 1024 * 1024;
