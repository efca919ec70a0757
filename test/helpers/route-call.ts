/** Where the route tests' requests go. */
export const ORIGIN = 'http://jobs.test';

type Routes = (request: Request) => Promise<Response | undefined>;

/**
 * A `call(method, path, body?, headers?)` for route tests: a JSON body unless `body` is a string,
 * sent to whatever `routes()` returns at call time; throws when the routes do not handle it.
 */
export function routeCaller(routes: () => Routes) {
  return async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await routes()(new Request(`${ORIGIN}${path}`, init));
    if (!response) throw new Error(`${method} ${path} was not handled`);
    return response;
  };
}
