import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './deferred.js';
import { answers } from './probe.js';

/** A Redis Cluster of the test's own: three masters, no replicas, on free ports. */
export interface PrivateCluster {
  /** The nodes as `{ host, port }`. */
  readonly nodes: { host: string; port: number }[];
  /** Stop every node and delete their folder. */
  dispose(): Promise<void>;
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  const listen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    });
  for (;;) {
    const port = await listen(0);
    if (port === undefined || port + 10_000 > 65_535 || taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await listen(port + 10_000)) === undefined) continue;
    taken.add(port).add(port + 10_000);
    return port;
  }
}

/** Run a command; its stdout, or an error with its output. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${output}`))));
  });
}

/**
 * Start three redis-server processes in cluster mode and join them (`redis-cli --cluster create`,
 * no replicas); resolves once every node says `cluster_state:ok`. A string saying why when this
 * machine cannot (no redis-server or redis-cli, or the cluster does not form).
 */
export async function startPrivateCluster(): Promise<PrivateCluster | string> {
  try {
    await run('redis-server', ['--version']);
    await run('redis-cli', ['--version']);
  } catch {
    return 'redis-server or redis-cli is not installed';
  }
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-cluster-'));
  const children: ChildProcess[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    const ports = [await freeClusterPort(taken), await freeClusterPort(taken), await freeClusterPort(taken)];
    for (const port of ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''];
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000');
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of ports) await until(() => answers(port, { send: 'PING\r\n', expect: '+PONG' }), 10_000, `cluster node ${port} to answer`);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) {
      await until(async () => (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).includes('cluster_state:ok'), 20_000, `cluster node ${port} to say cluster_state:ok`);
    }
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), dispose };
  } catch (error) {
    await dispose();
    return `the cluster did not form: ${error instanceof Error ? error.message : String(error)}`;
  }
}
