import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileResultStorage, isJobwireError, silentLogger } from '../../src/index.js';
import { sampleStoredResult as makeRecord, testResultStorage } from '../../src/testing/index.js';

let dir = '';
await testResultStorage('FileResultStorage', {
  async make() {
    dir = await mkdtemp(join(tmpdir(), 'jobwire-results-'));
    return new FileResultStorage({ dir: join(dir, 'nested', 'results') });
  },
  reopen: () => new FileResultStorage({ dir: join(dir, 'nested', 'results') }),
  cleanup: () => rm(dir, { recursive: true, force: true }),
});

describe('FileResultStorage specifics', () => {
  let root = '';
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'jobwire-files-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes one <jobId>.json per job and leaves no temp file behind', async () => {
    const storage = new FileResultStorage({ dir: root });
    const record = makeRecord();
    await storage.save(record);
    expect(await readdir(root)).toEqual([`${record.jobId}.json`]);
    expect(JSON.parse(await readFile(join(root, `${record.jobId}.json`), 'utf8'))).toEqual(record);
  });

  it('never writes outside its folder, whatever the id', async () => {
    const inner = join(root, 'inner');
    const storage = new FileResultStorage({ dir: inner });
    await writeFile(join(root, 'secret.json'), JSON.stringify(makeRecord({ jobId: 'secret' })));
    for (const jobId of ['../secret', '..%2Fsecret', '/etc/passwd', '..\\secret']) {
      await expect(storage.save(makeRecord({ jobId }))).rejects.toSatisfy(isJobwireError);
      expect(await storage.get(jobId)).toBeUndefined();
      expect(await storage.delete(jobId)).toBe(false);
    }
    expect((await readdir(root)).sort()).toEqual(['secret.json']);
  });

  it('skips stray, temp and corrupt files in listings, warning of the corrupt one; get() reports it as STORAGE_FAILED', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
    const storage = new FileResultStorage({ dir: root, logger });
    const good = makeRecord();
    await storage.save(good);
    await writeFile(join(root, '.halfwritten.tmp'), '{"jobId":');
    await writeFile(join(root, 'notes.txt'), 'hello');
    await writeFile(join(root, 'brokenjob0000000000.json'), '{not json');
    expect((await storage.list()).results.map((r) => r.jobId)).toEqual([good.jobId]);
    expect(warnings).toEqual([expect.stringContaining('brokenjob0000000000')]);
    await expect(storage.get('brokenjob0000000000')).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });

  it('recreates its folder when it was removed between saves', async () => {
    const dir = join(root, 'results');
    const storage = new FileResultStorage({ dir });
    const first = makeRecord();
    await storage.save(first);
    await rm(dir, { recursive: true });
    const second = makeRecord();
    await storage.save(second);
    expect(await readdir(dir)).toEqual([`${second.jobId}.json`]);
    expect(await storage.get(second.jobId)).toEqual(second);
    // Removed again, deeper this time: the whole path comes back.
    await rm(root, { recursive: true });
    const third = makeRecord();
    await storage.save(third);
    expect(await storage.get(third.jobId)).toEqual(third);
  });

  it('needs a dir', () => {
    expect(() => new FileResultStorage({ dir: '' })).toThrow(/dir/);
  });
});
