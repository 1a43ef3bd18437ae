/**
 * provider/fs: local file IO. Atomic single and batch writes (temp file in the same directory with
 * the final mode, fsync, rename, directory fsync): every file is always either old or new.
 */
export { writeFileAtomic, sweepDeadTemps, tempPathFor, processStart, type AtomicWriteHooks } from "./atomic.js";
export {
  writeFilesAtomic,
  stageFilesAtomic,
  checkConcurrency,
  type StagedBatch,
  type AtomicEntry,
  type BatchWriteHooks,
  type BatchWriteOptions,
} from "./atomic-batch.js";
export { FsWriteError, FsArgumentError } from "./errors.js";
export { readBoundedFile } from "./read-bounded.js";
export {
  acquireFileLock,
  assertUnchanged,
  describeHolder,
  fileVersion,
  lockPathOf,
  readLockHolder,
  textVersion,
  withFileLock,
  withFileLocks,
  FileChangedError,
  LockTimeoutError,
  type FileLock,
  type LockHolder,
  type LockOptions,
} from "./lock.js";
