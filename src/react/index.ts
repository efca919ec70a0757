/** @module jobwire/react — React hooks over `jobwire/client`: follow a job live, submit typed jobs. */
export { JobClientProvider, useJobClient } from './provider.js';
export type { AnyJobClient, JobClientProviderProps } from './provider.js';
export { useJob } from './use-job.js';
export type { UseJobOptions, UseJobResult } from './use-job.js';
export type { JobOutputState } from './job-feed.js';
export { useSubmit } from './use-submit.js';
export type { UseSubmitOptions, UseSubmitResult } from './use-submit.js';
export type { Register, RegisteredPlugins } from './register.js';
