/**
 * A tracker for the dashboard tests, built from the package as users get it: a plugin the test
 * drives by hand (progress, output, success or failure, each when the test says), one that
 * finishes at once and one that always fails; the dashboard served on node:http.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type PluginContext } from 'jobwire';
import { createDashboard, type DashboardOptions } from 'jobwire/dashboard';
import { toNodeHandler } from 'jobwire/http';

/** A run of the `render` plugin, driven by the test. */
export interface Gate {
  ctx: PluginContext<unknown>;
  /** End the run with this result. */
  finish(result?: unknown): void;
  /** End the run with this error (the job fails). */
  fail(message: string): void;
}

/** Runs of `render` by job id, and a way to wait for one to start. */
export class Gates {
  readonly #runs = new Map<string, Gate>();
  readonly #waiters = new Map<string, ((gate: Gate) => void)[]>();

  add(jobId: string, gate: Gate): void {
    this.#runs.set(jobId, gate);
    for (const wake of this.#waiters.get(jobId) ?? []) wake(gate);
    this.#waiters.delete(jobId);
  }

  /** The run of `jobId` once it has started. */
  started(jobId: string): Promise<Gate> {
    const gate = this.#runs.get(jobId);
    if (gate) return Promise.resolve(gate);
    return new Promise((resolve) => this.#waiters.set(jobId, [...(this.#waiters.get(jobId) ?? []), resolve]));
  }
}

export function dashboardPlugins(gates: Gates) {
  const render = definePlugin({
    name: 'render',
    title: 'Render video',
    input: z.object({ file: z.string().default('intro.mp4') }),
    async run(_input, ctx) {
      return new Promise<unknown>((resolve, reject) => {
        gates.add(ctx.jobId, { ctx: ctx as PluginContext<unknown>, finish: (result = { ok: true }) => resolve(result), fail: (message) => reject(new Error(message)) });
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      });
    },
  });
  const email = definePlugin({
    name: 'send-email',
    title: 'Send email',
    input: z.object({ to: z.string() }),
    async run(input) {
      return { delivered: input.to };
    },
  });
  const importer = definePlugin({
    name: 'import-csv',
    title: 'Import CSV',
    input: z.object({ rows: z.number().int().default(100) }),
    async run(input) {
      throw new Error(`row ${Math.min(input.rows, 42)}: missing column "email"`);
    },
  });
  return { render, email, importer };
}

/** A tracker with the three plugins, and the dashboard on a node:http server. */
export interface DashboardServer {
  tracker: JobTracker;
  gates: Gates;
  server: Server;
  /** The server's origin. */
  origin: string;
  /** The dashboard's page. */
  url: string;
  /** While on, every stream request is answered 503, as a server that is restarting answers. */
  refuseStreams(on: boolean): void;
  /** Cut every open connection, streams included, as a network drop does. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * The dashboard on a node:http server; everyone may use it unless `options` has an `authorize`.
 * `guard` stands for the host's own check in front of the dashboard (a sign-in middleware): a
 * `Response` it returns is the answer, and the dashboard is not asked.
 */
export async function startDashboard(options: Partial<DashboardOptions> = {}, guard?: (request: Request) => Response | undefined): Promise<DashboardServer> {
  const gates = new Gates();
  const { render, email, importer } = dashboardPlugins(gates);
  const plugins = new LocalPluginManager().register(render).register(email).register(importer);
  const tracker = new JobTracker({ plugins, concurrency: 20 });
  const dashboard = createDashboard(tracker, { authorize: () => true, ...options });
  let refusing = false;
  const server = createServer(
    toNodeHandler(async (request) => {
      if (refusing && new URL(request.url).pathname.endsWith('/events')) {
        return Response.json({ error: { code: 'UNAVAILABLE', message: 'Restarting' } }, { status: 503 });
      }
      return guard?.(request) ?? dashboard(request);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    tracker,
    gates,
    server,
    origin,
    url: `${origin}${options.basePath ?? '/jobwire'}`,
    refuseStreams(on) {
      refusing = on;
    },
    dropConnections() {
      server.closeAllConnections();
    },
    async close() {
      await tracker.close({ timeoutMs: 0 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
