import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');

/** How long an example may take to print its URL: tsx compiles it first, on a machine that may be loaded. */
const START_MS = 60_000;

/** An example server running in its own process. */
export interface ExampleProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, then the exit code (the examples close cleanly on signals). */
  stop(): Promise<number | null>;
}

/** Start `examples/<file>` with PORT=0 on 127.0.0.1 and wait for the URL it prints. */
export function startExample(file: string, env: Record<string, string> = {}): Promise<ExampleProcess> {
  const child = spawn(tsx, [resolve(root, 'examples', file)], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not print its URL in time:\n${output}`));
    }, START_MS);
    const onData = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolvePromise({
        child,
        url: match[1],
        output: () => output,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code}) before listening:\n${output}`));
    });
  });
}
