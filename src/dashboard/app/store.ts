import type { JobSnapshot, JobStatus } from '../../job.js';
import type { PluginMeta } from '../../plugin-manager/types.js';
import type { JobStats } from '../../tracker/types.js';
import type { Refusal } from './api.js';
import { Emitter } from './emitter.js';

/** The status filter: one status, or all. */
export type StatusFilter = JobStatus | 'all';

/** What the jobs table shows. `plugin` and `tenant` are `''` for any. */
export interface Filters {
  status: StatusFilter;
  plugin: string;
  tenant: string;
}

/**
 * The state of the live stream: opening, open, lost and being reopened by the client, failed (the
 * page tries again later and shows the jobs without live updates meanwhile), or refused: the
 * server would not let this user follow the jobs, and the page does not ask again by itself.
 */
export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'refused';

/** What the server may refuse on its own, each with its part of the page: the job list, and the stats (tiles and charts). */
export type Area = 'list' | 'stats';

/** One sample of a plugin's throughput, for its sparkline. */
export interface RateSample {
  at: number;
  /** Jobs that ended per minute, over the stats window. */
  perMinute: number;
}

/** The page's events, as views hear them. */
export interface StoreEvents extends Record<string, unknown[]> {
  /** The list was replaced (filters changed, or re-read after the stream (re)opened). */
  reset: [];
  /** A job was added (`index`: where it now is in `order`) or changed. */
  job: [job: JobSnapshot, index: number | undefined];
  /** A job left the list (it no longer matches the filters). */
  remove: [id: string];
  filters: [filters: Filters];
  select: [id: string | undefined];
  connection: [connection: Connection, detail: string | undefined];
  stats: [stats: JobStats];
  plugins: [plugins: readonly PluginMeta[]];
  /** Whether a list is being read. */
  loading: [loading: boolean];
  /** The list could not be read (a message), or it could again (undefined). */
  listError: [message: string | undefined];
  /** The server refused the list or the stats, or (undefined) let them through again. */
  access: [area: Area, refusal: Refusal | undefined];
}

/** Samples kept per plugin: at one poll each 5 s, the last 5 minutes. */
const MAX_SAMPLES = 60;

/** Sort order by creation time, newest first; 0 for jobs created in the same millisecond. */
function newerFirst(a: JobSnapshot, b: JobSnapshot): number {
  return a.createdAt === b.createdAt ? 0 : b.createdAt < a.createdAt ? -1 : 1;
}

const STAGE = { queued: 0, running: 1, completed: 2, failed: 2, cancelled: 2 } as const;

/**
 * True when `incoming` is an older state of the job than `known`: an answer that arrives after
 * the stream told of later events (a re-run's `queued` once its `failed` came) must not undo them.
 * A job only moves forward: to a later try, or within a try from queued to running to its end.
 */
export function isOlder(incoming: JobSnapshot, known: JobSnapshot): boolean {
  if (incoming.attempt !== known.attempt) return incoming.attempt < known.attempt;
  return STAGE[incoming.status] < STAGE[known.status];
}

/** True when `job` belongs in a list with these filters. */
export function matches(job: JobSnapshot, filters: Filters): boolean {
  return (
    (filters.status === 'all' || job.status === filters.status) &&
    (filters.plugin === '' || job.plugin === filters.plugin) &&
    (filters.tenant === '' || job.tenantId === filters.tenant)
  );
}

/**
 * What the page knows: the jobs in view (newest first), the filters, the selected job, the
 * stream's state, the stats and the plugins. Views render from it and listen to its events.
 */
export class Store extends Emitter<StoreEvents> {
  filters: Filters = { status: 'all', plugin: '', tenant: '' };
  /** The jobs in view, by id. */
  readonly jobs = new Map<string, JobSnapshot>();
  /** Their ids, newest first. */
  order: string[] = [];
  nextCursor: string | undefined;
  selected: string | undefined;
  connection: Connection = 'connecting';
  stats: JobStats | undefined;
  plugins: readonly PluginMeta[] = [];
  /** What the server refused, by part of the page. */
  readonly refused = new Map<Area, Refusal>();
  /** Per plugin, its recent throughput samples, oldest first. */
  readonly rates = new Map<string, RateSample[]>();
  /** Jobs an event changed while a list was being read: the event's snapshot is newer than the list's. */
  #touched: Set<string> | undefined;

  /** The display name of a plugin. */
  pluginTitle(name: string): string {
    return this.plugins.find((plugin) => plugin.name === name)?.title ?? name;
  }

  /** New filters (the list is read again by the page). */
  setFilters(filters: Filters): void {
    this.filters = filters;
    this.emit('filters', filters);
  }

  /** Open a job's detail, or close it (`undefined`). */
  select(id: string | undefined): void {
    if (id === this.selected) return;
    this.selected = id;
    this.emit('select', id);
  }

  /** The live stream's state; `detail` says why when it is not live. */
  setConnection(connection: Connection, detail?: string): void {
    this.connection = connection;
    this.emit('connection', connection, detail);
  }

  /** The server's plugins, for their titles and the plugin filter. */
  setPlugins(plugins: readonly PluginMeta[]): void {
    this.plugins = plugins;
    this.emit('plugins', plugins);
  }

  /** Whether a page of jobs is being read. */
  setLoading(loading: boolean): void {
    this.emit('loading', loading);
  }

  /** Why the list could not be read, or `undefined` once it could. */
  setListError(message: string | undefined): void {
    this.emit('listError', message);
  }

  /** The server refused `area` (the page stops asking for it), or let it through again (`undefined`). */
  setRefused(area: Area, refusal: Refusal | undefined): void {
    if (refusal === undefined && !this.refused.has(area)) return;
    if (refusal) this.refused.set(area, refusal);
    else this.refused.delete(area);
    this.emit('access', area, refusal);
  }

  /** New stats: kept, and each plugin's throughput sampled for its sparkline. */
  setStats(stats: JobStats, now: number): void {
    this.stats = stats;
    const minutes = stats.windowMs / 60_000;
    const names = new Set([...this.plugins.map((plugin) => plugin.name), ...Object.keys(stats.plugins)]);
    for (const name of names) {
      const finished = stats.plugins[name]?.finished;
      const ended = finished ? finished.completed + finished.failed + finished.cancelled : 0;
      let samples = this.rates.get(name);
      if (!samples) this.rates.set(name, (samples = []));
      samples.push({ at: now, perMinute: ended / minutes });
      if (samples.length > MAX_SAMPLES) samples.shift();
    }
    this.emit('stats', stats);
  }

  /** A list is about to be read: from now, jobs that events change keep the event's snapshot. */
  beginList(): void {
    this.#touched = new Set();
  }

  /**
   * A page of jobs arrived: it replaces the list, or (`append`) extends it, in the server's order.
   * A job an event changed while the page was read keeps the event's (newer) snapshot; one the
   * page does not have yet (submitted meanwhile) stays, in its place by creation time.
   */
  applyList(jobs: readonly JobSnapshot[], nextCursor: string | undefined, append: boolean): void {
    const touched = this.#touched ?? new Set<string>();
    this.#touched = undefined;
    const fresh = new Map<string, JobSnapshot>();
    for (const id of touched) {
      const job = this.jobs.get(id);
      if (job && matches(job, this.filters)) fresh.set(id, job);
    }
    if (!append) {
      this.jobs.clear();
      this.order = [];
    }
    for (const job of jobs) {
      if (this.jobs.has(job.id)) continue; // a page that overlaps the last one
      const newer = fresh.get(job.id);
      this.jobs.set(job.id, newer && !isOlder(newer, job) ? newer : job);
      this.order.push(job.id);
      fresh.delete(job.id);
    }
    for (const job of fresh.values()) {
      if (this.jobs.has(job.id)) continue;
      this.jobs.set(job.id, job);
      const index = this.order.findIndex((id) => newerFirst(job, this.jobs.get(id) as JobSnapshot) <= 0);
      this.order.splice(index < 0 ? this.order.length : index, 0, job.id);
    }
    this.nextCursor = nextCursor;
    this.emit('reset');
  }

  /**
   * A job's newer snapshot (a live event, or an answer to cancel/re-run): added when it matches the
   * filters and is newer than the oldest job shown (or the list is complete), updated when shown,
   * dropped when it no longer matches.
   */
  applyJob(job: JobSnapshot): void {
    const known = this.jobs.get(job.id);
    if (known && isOlder(job, known)) return;
    this.#touched?.add(job.id);
    const shown = known !== undefined;
    if (!matches(job, this.filters)) {
      if (!shown) return;
      this.jobs.delete(job.id);
      this.order = this.order.filter((id) => id !== job.id);
      this.emit('remove', job.id);
      return;
    }
    this.jobs.set(job.id, job);
    if (shown) {
      this.emit('job', job, undefined);
      return;
    }
    const oldest = this.order.length > 0 ? this.jobs.get(this.order[this.order.length - 1] as string) : undefined;
    // Below the last job of a list with more pages, it belongs to a page not read yet.
    if (oldest && this.nextCursor !== undefined && newerFirst(job, oldest) > 0) {
      this.jobs.delete(job.id);
      return;
    }
    // Before every job created at the same time or earlier: a new job goes above its peers.
    let index = this.order.findIndex((id) => newerFirst(job, this.jobs.get(id) as JobSnapshot) <= 0);
    if (index < 0) index = this.order.length;
    this.order.splice(index, 0, job.id);
    this.emit('job', job, index);
  }
}
