import { randomFillSync } from 'node:crypto';

const ID_BYTES = 16; // 128 random bits
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(ID_BYTES * POOL_IDS);
let offset = pool.length;

/**
 * A new job id: 128 random bits, base64url (22 characters).
 * Random bytes are drawn in batches, since one syscall per id would dominate submit.
 */
export function createJobId(): string {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

export { isValidJobId } from './valid-job-id.js';
