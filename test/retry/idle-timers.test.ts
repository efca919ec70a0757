import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Run a fixture script with node; its exit code (-1 when it had to be killed), stdout and stderr. */
async function runScript(name: string): Promise<{ exit: number | null; out: string; err: string }> {
  const script = fileURLToPath(new URL(`../fixtures/retry/${name}`, import.meta.url));
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
  return { exit, out, err };
}

describe('waiting retries, delayed jobs and schedules in memory', () => {
  it('never keep the process alive', async () => {
    const { exit, out, err } = await runScript('idle-timers.mjs');
    expect(err).toBe('');
    expect(exit, 'the process had to be killed: a timer kept it alive').toBe(0);
    expect(JSON.parse(out)).toEqual({ delayed: 2, schedules: 2 });
  }, 90_000);

  it('a pending tracker.wait() keeps the process alive through a backoff', async () => {
    const { exit, out, err } = await runScript('wait-through-backoff.mjs');
    expect(err).toBe('');
    expect(exit).toBe(0);
    expect(JSON.parse(out)).toEqual({ status: 'completed', attempt: 2 });
  }, 90_000);
});
