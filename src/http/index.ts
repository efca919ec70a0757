/** @module jobwire/http — the REST routes as a fetch-style handler, and a bridge to node:http / Express. */
export { createJobRoutes } from './routes.js';
export type { AuthorizeContext, JobAction, JobRoutesHandler, JobRoutesOptions, JobRoutesSSEOptions } from './routes.js';
export { toNodeHandler } from './node.js';
export type { NodeHandler, NodeHandlerOptions } from './node.js';
export { errorResponse, HTTP_ONLY_ERROR_CODES, HTTP_STATUS_BY_CODE } from './error-response.js';
export type { HttpErrorBody, HttpOnlyErrorCode } from './error-response.js';
export { DEFAULT_MAX_BODY_BYTES } from './body.js';
