/**
 * A pino-compatible logger: an object with `info`, `warn`, `error` and `debug`, each taking a
 * context object first and a message second.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * new JobTracker({ plugins, logger: pino() });
 * ```
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** The default logger: says nothing. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
