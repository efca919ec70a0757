import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('waiting retries, delayed jobs and schedules in memory', () => {
  it('never keep the process alive', async () => {
    const script = fileURLToPath(new URL('../fixtures/retry/idle-timers.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    // Bounded only so that a failure ends: a process kept alive by an hour-long timer would never exit on its own.
    const exit = await new Promise<number | null>((resolve) => {
      const bound = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 60_000);
      child.on('exit', (code) => {
        clearTimeout(bound);
        resolve(code);
      });
    });
    expect(err).toBe('');
    expect(exit, 'the process had to be killed: a timer kept it alive').toBe(0);
    expect(JSON.parse(out)).toEqual({ delayed: 2, schedules: 2 });
  }, 90_000);
});
