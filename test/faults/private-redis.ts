import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from '../helpers/probe.js';
import { until } from '../helpers/deferred.js';

/** A redis-server of the test's own, on a free port: it may be paused, killed and restarted without disturbing other tests. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Kill it (SIGKILL: a crash, nothing flushed beyond what its persistence wrote). */
  kill(): Promise<void>;
  /** Start it again on the same port and folder. */
  restart(): Promise<void>;
  /** Kill it and delete its folder. */
  dispose(): Promise<void>;
}

/** Whether this machine can start a redis-server (the fault tests that need one skip with a line otherwise). */
export async function canStartRedis(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Start a private redis-server. `persistent`: append-only file, fsync on every write (what
 * docs/reliability.md tells users to run so that accepted jobs survive a restart); otherwise no
 * persistence at all.
 */
export async function startPrivateRedis(options: { persistent: boolean }): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--logfile', ''];
  args.push(...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await until(() => answers(port, { send: 'PING\r\n', expect: '+PONG' }), 10_000, 'the private redis-server to answer');
  };
  const kill = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    dispose: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
