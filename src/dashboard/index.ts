/** @module jobwire/dashboard — an operations dashboard for a tracker: one page and its API, as a fetch-style handler. */
export { createDashboard } from './create-dashboard.js';
export type { DashboardHandler } from './create-dashboard.js';
export type { DashboardAuthorize, DashboardOptions } from './options.js';
