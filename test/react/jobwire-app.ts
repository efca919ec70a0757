import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from '../../src/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';
import { createJobClient, type JobClient, type JobClientOptions } from '../../src/client/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Upper-cases its text; an empty text is `INVALID_INPUT`. */
export const echo = definePlugin({
  name: 'echo',
  input: z.object({ text: z.string().min(1) }),
  output: z.object({ text: z.string() }),
  run: (input) => ({ text: input.text.toUpperCase() }),
});

/** The server's plugins, as an app declares them for the client. */
export type TestPlugins = { echo: typeof echo; controlled: ReturnType<typeof controlledPlugin>['plugin'] };

// As an app does once: the hooks are typed from these plugins without a type argument.
declare module '../../src/react/index.js' {
  interface Register {
    plugins: TestPlugins;
  }
}

/** A request for a job stream, as the server saw it. */
export interface StreamRequest {
  url: string;
  lastEventId: string | undefined;
}

/** A jobwire server on node:http, the page on its origin, and a client of it. */
export interface JobwireApp {
  tracker: JobTracker;
  control: ReturnType<typeof controlledPlugin>;
  server: TestServer;
  client: JobClient<TestPlugins>;
  /** Every request for an event stream, in order. */
  streams: StreamRequest[];
  /** Destroy every open connection, as a network drop would. */
  dropConnections(): void;
  /** While true, every request for an event stream is answered 503, as by a server that is restarting. */
  refuseStreams: boolean;
  close(): Promise<void>;
}

/**
 * Point happy-dom's page at `url`: the app is served from its API's origin, so its requests are
 * same-origin (happy-dom's fetch enforces CORS as a browser does).
 */
function openPageAt(url: string): void {
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${url}/app`);
}

/**
 * `fetch` as a browser's behaves on abort, over happy-dom's (or `base`). happy-dom's misses an abort
 * that comes before it listens (it checks the signal, awaits its own cache and CORS checks, and only
 * then listens: an effect that StrictMode runs and cleans up at once aborts right there), and
 * cancelling a body does not close its connection. So happy-dom gets a signal of its own, aborted
 * once its response is there, when it does listen and closes the connection. A caller that never
 * aborts still leaves the stream open: the tests see it.
 */
function browserLikeFetch(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const outer = init?.signal;
    if (!outer) return base(input, init);
    outer.throwIfAborted();
    const inner = new AbortController();
    let answered = false;
    outer.addEventListener('abort', () => answered && inner.abort(outer.reason), { once: true });
    const response = await base(input, { ...init, signal: inner.signal });
    answered = true;
    if (outer.aborted) {
      inner.abort(outer.reason);
      throw outer.reason;
    }
    return response;
  };
}

/** Start a real jobwire server (`createJobRoutes` + `toNodeHandler`) and a client of it. */
export async function startJobwireApp(clientOptions: Partial<Pick<JobClientOptions, 'fetch'>> = {}): Promise<JobwireApp> {
  const control = controlledPlugin();
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(control.plugin) });
  // A short `retry:` so a reconnect after a drop does not wait the default 2 s.
  const routes = toNodeHandler(createJobRoutes(tracker, { sse: { retryMs: 10 } }));
  const streams: StreamRequest[] = [];
  const server = await startServer((req, res) => {
    if (req.url?.includes('/events')) {
      const header = req.headers['last-event-id'];
      streams.push({ url: req.url, lastEventId: Array.isArray(header) ? header.join(',') : header });
      if (app.refuseStreams) {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'CLOSED', message: 'Restarting' } }));
        return;
      }
    }
    void routes(req, res);
  });
  openPageAt(server.url);
  const client = createJobClient<TestPlugins>({
    baseUrl: server.url,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    ...clientOptions,
    fetch: browserLikeFetch(clientOptions.fetch ?? ((input, init) => fetch(input, init))),
  });
  const app: JobwireApp = {
    tracker,
    control,
    server,
    client,
    streams,
    refuseStreams: false,
    dropConnections: () => server.server.closeAllConnections(),
    async close() {
      await server.close();
      await tracker.close({ timeoutMs: 0 });
    },
  };
  return app;
}
