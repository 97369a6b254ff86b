export type { AtomicFileData, AtomicFileOptions, WriteFileAtomicOptions } from './atomic-file.js';
export { AtomicFile, writeFileAtomic } from './atomic-file.js';
export { cleanupOnExit, removeOnExit } from './cleanup.js';
export type { OutputErrorCode } from './errors.js';
export { OutputError, outputError, systemErrorReason } from './errors.js';
export { makeDirectory } from './make-directory.js';
export { tempPathBeside } from './temp-path.js';
