import { errorResponse } from './error-response.js';

/**
 * A fetch-style handler around `route`: a request whose URL does not parse is not ours
 * (`undefined`); a thrown error becomes its JSON error response, after `report` saw it (to log
 * what is unexpected).
 */
export function fetchHandler(
  route: (request: Request, url: URL) => Promise<Response | undefined>,
  report: (error: unknown, url: URL) => void,
): (request: Request) => Promise<Response | undefined> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return undefined;
    }
    try {
      return await route(request, url);
    } catch (error) {
      report(error, url);
      return errorResponse(error);
    }
  };
}
