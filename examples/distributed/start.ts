/**
 * One command for the whole picture: an API process and two worker processes on one Redis.
 * In production you start each role on its own (see docs/scaling.md):
 *   npx tsx examples/distributed/api.ts      (any number, behind a load balancer)
 *   npx tsx examples/distributed/worker.ts   (any number, any machine)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];
const run = (file: string): ChildProcess => {
  const child = fork(here(file), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  children.push(child);
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`${file} exited (${code}); stopping`);
      stop();
    }
  });
  return child;
};

let stopping = false;
function stop(): void {
  stopping = true;
  let left = children.length;
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) left--;
    else {
      child.once('exit', () => --left === 0 && process.exit(0));
      child.kill('SIGTERM');
    }
  }
  if (left === 0) process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

run('./worker.ts');
run('./worker.ts');
run('./api.ts');
