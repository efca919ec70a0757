import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a database, for one process under test: connections pass through, and
 * while the gate is held, new ones wait at the proxy (connected, nothing forwarded) until it is
 * released. It keeps a reconnect from landing, so a test can act in the gap between a dropped
 * connection and its replacement, however long the machine takes.
 */
export interface GateProxy {
  readonly port: number;
  /** New connections wait from now on. */
  hold(): void;
  /** Forward the waiting connections, and new ones again. */
  release(): void;
  /** Connections waiting at the gate now. */
  readonly waiting: number;
  /** The local ports of the proxy's connections to the database (how the database sees this process's connections). */
  upstreamPorts(): Set<number>;
  /** Close the proxy and every connection through it. */
  dispose(): Promise<void>;
}

export async function startGateProxy(target: { host: string; port: number }): Promise<GateProxy> {
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let held: Socket[] | undefined;

  const forward = (client: Socket): void => {
    if (client.destroyed) return;
    const upstream = createConnection(target);
    sockets.add(upstream);
    upstreams.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      upstreams.delete(upstream);
      sockets.delete(upstream);
    };
    upstream.on('error', done);
    upstream.on('close', done);
    client.on('error', done);
    client.on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (held) {
      client.pause(); // what it sends waits in the socket until it is forwarded
      client.on('error', () => client.destroy());
      held.push(client);
    } else forward(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');

  return {
    port: address.port,
    hold: () => {
      held ??= [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const client of waiting) forward(client);
    },
    get waiting() {
      return (held ?? []).filter((client) => !client.destroyed).length;
    },
    upstreamPorts: () => new Set([...upstreams].flatMap((socket) => (socket.localPort === undefined ? [] : [socket.localPort]))),
    dispose: async () => {
      held = undefined;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
