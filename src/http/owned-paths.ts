/** Which paths a fetch-style handler from `createJobRoutes` answers, by handler. */
const owners = new WeakMap<object, (pathname: string) => boolean>();

/** Remember which paths `handler` answers. */
export function registerOwnedPaths(handler: object, owns: (pathname: string) => boolean): void {
  owners.set(handler, owns);
}

/**
 * Whether `handler` answers `pathname`, for a request that cannot even be turned into a `Request`
 * (so the handler cannot be asked). False for a handler that did not say: such a request is left
 * to the host.
 */
export function ownsPath(handler: object, pathname: string): boolean {
  return owners.get(handler)?.(pathname) ?? false;
}
