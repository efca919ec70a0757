/** @module Result storage: the contract and the memory and file implementations. */
export type { ResultPage, ResultQuery, ResultStorage, StoredOutput, StoredResult } from './types.js';
export { MemoryResultStorage } from './memory-result-storage.js';
export { FileResultStorage } from './file-result-storage.js';
export type { FileResultStorageOptions } from './file-result-storage.js';
