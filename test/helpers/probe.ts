import { Socket } from 'node:net';

/**
 * Whether something answers on 127.0.0.1:`port` within a second: a TCP connect, or when `hello` is
 * given, a reply starting with `expect` to it.
 */
export function answers(port: number, hello?: { send: string; expect: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => (hello ? socket.write(hello.send) : done(true)));
    if (hello) socket.once('data', (data) => done(data.toString().startsWith(hello.expect)));
  });
}
