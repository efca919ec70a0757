/** Start an example server from the command line: PORT and HOST from the environment, URL printed, clean exit on signals. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobTracker } from 'jobwire';

export interface RunningExample {
  url: string;
  close(): Promise<void>;
}

/** Listen with a node http server; resolves with its URL and a close() that ends jobs and connections. */
export function listen(server: Server, tracker: JobTracker, port: number, host: string): Promise<RunningExample> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
        async close() {
          await tracker.close({ timeoutMs: 1_000 });
          server.closeAllConnections();
          await new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}

/** When the file is run directly: start it with PORT/HOST and print where it listens. */
export async function runFromCommandLine(name: string, start: (options: { port: number; host: string }) => Promise<RunningExample>): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  let running: RunningExample;
  try {
    running = await start({ port, host });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    console.error(`${name}: ${host}:${port} is in use; start it on another port, e.g. PORT=${port + 1}`);
    process.exit(1);
  }
  console.log(`${name} listening on ${running.url}`);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
