/**
 * One command for the whole picture: an API process and two worker processes on one Redis, on a
 * queue of their own (QUEUE_NAME, or a unique name made up here and printed). In production you
 * start each role on its own with the same QUEUE_NAME (see docs/scaling.md):
 *   QUEUE_NAME=media npx tsx examples/distributed/api.ts      (any number, behind a load balancer)
 *   QUEUE_NAME=media npx tsx examples/distributed/worker.ts   (any number, any machine)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeConnection, resultsDir, uniqueQueueName } from './config.js';

const queueName = process.env.QUEUE_NAME || uniqueQueueName();
console.log(`queue ${queueName} on ${describeConnection()}, prefix ${process.env.REDIS_PREFIX ?? 'jobwire'}, results in ${resultsDir()}`);
console.log(`more workers for it: QUEUE_NAME=${queueName} npx tsx examples/distributed/worker.ts`);

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];
const run = (file: string): ChildProcess => {
  const child = fork(here(file), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit', env: { ...process.env, QUEUE_NAME: queueName } });
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
