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

/**
 * A `catch` handler for a failure that changes nothing for the caller (a best-effort cleanup):
 * logged at debug, with `context`, so it is never silent.
 */
export function logDebug(logger: Logger, what: string, context: object = {}): (error: unknown) => void {
  return (error) => logger.debug({ ...context, err: error }, `jobwire: ${what}: ${describeError(error)}`);
}

function describeError(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'an unreadable error';
  }
}
