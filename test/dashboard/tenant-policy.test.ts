/**
 * The "one tenant's operators" policy of docs/dashboard.md, run as the doc writes it: its block is
 * read from the doc, compiled and given to `createDashboard`, then asked as the page asks it by
 * the operators of two tenants, with the session cookie a browser sends.
 */
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as jobwire from 'jobwire';
import { JobTracker, LocalPluginManager, type JobSnapshot } from 'jobwire';
import { createDashboard, type DashboardHandler, type DashboardOptions } from 'jobwire/dashboard';
import * as jobwireHttp from 'jobwire/http';
import { codeBlocks } from '../docs/code-blocks.js';
import { dashboardPlugins, Gates } from './fixture.js';

const DOC = 'docs/dashboard.md';
const POLICY_FILE = 'tenant-operators.ts';
const ORIGIN = 'http://ops.test';

/** The modules the doc's block may import, as the test has them. */
const MODULES: Record<string, unknown> = { jobwire, 'jobwire/http': jobwireHttp };

/** The policy as the doc writes it: the block named `// @file tenant-operators.ts`, compiled and run. */
function policyOfTheDoc(): DashboardOptions['authorize'] {
  const block = codeBlocks(DOC).find((each) => each.fileName === POLICY_FILE);
  if (!block) throw new Error(`${DOC} has no block named // @file ${POLICY_FILE}`);
  const { outputText } = ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const exports: Record<string, unknown> = {};
  const require = (name: string): unknown => {
    if (!(name in MODULES)) throw new Error(`the policy in ${DOC} imports ${name}: add it to MODULES`);
    return MODULES[name];
  };
  new Function('require', 'exports', outputText)(require, exports);
  if (typeof exports.tenantOperators !== 'function') throw new Error(`${DOC}: ${POLICY_FILE} exports no tenantOperators function`);
  return exports.tenantOperators as DashboardOptions['authorize'];
}

/** The sessions of the doc's example: the operators of acme and of globex. */
const SESSIONS = { acme: 's-acme-ops', globex: 's-globex-ops' } as const;
type Tenant = keyof typeof SESSIONS;
const OTHER: Record<Tenant, Tenant> = { acme: 'globex', globex: 'acme' };

interface TenantJobs {
  /** A `render` job, running until the test ends it. */
  running: JobSnapshot;
  failed: JobSnapshot;
  completed: JobSnapshot;
}

let tracker: JobTracker;
let gates: Gates;
let handler: DashboardHandler;
/** Each tenant's first jobs, which only the tests that read use (the tests that act make their own). */
const jobs = {} as Record<Tenant, TenantJobs>;

/** A running, a failed and a completed job of `tenantId`. */
async function jobsOf(tenantId: Tenant): Promise<TenantJobs> {
  const running = await tracker.submit('render', {}, { tenantId });
  const failed = await tracker.submit('import-csv', { rows: 2 }, { tenantId });
  const completed = await tracker.submit('send-email', { to: `ops@${tenantId}.test` }, { tenantId });
  await Promise.all([gates.started(running.id), tracker.wait(failed.id), tracker.wait(completed.id)]);
  return { running, failed, completed };
}

beforeAll(async () => {
  gates = new Gates();
  const { render, email, importer } = dashboardPlugins(gates);
  tracker = new JobTracker({ plugins: new LocalPluginManager().register(render).register(email).register(importer), concurrency: 20 });
  // Mounted as the doc mounts it.
  handler = createDashboard(tracker, { basePath: '/ops', authorize: policyOfTheDoc() });
  jobs.acme = await jobsOf('acme');
  jobs.globex = await jobsOf('globex');
});
afterAll(async () => {
  await tracker.close({ timeoutMs: 0 });
});

/** A call of the page's API by the operator of `tenant` (or with `cookie` as it is): the browser sends the session cookie, nothing else. */
async function call(who: Tenant | { cookie: string }, path: string, method = 'GET'): Promise<Response> {
  const cookie = typeof who === 'string' ? `theme=dark; session=${SESSIONS[who]}` : who.cookie;
  const abort = new AbortController();
  const response = await handler(new Request(`${ORIGIN}/ops/api${path}`, { method, headers: { cookie }, signal: abort.signal }));
  if (!response) throw new Error(`${path} is not the dashboard's`);
  // A stream that stays open (tenant-wide) is let go once its status is known.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    abort.abort();
    await response.body?.cancel().catch(() => {});
  }
  return response;
}

const codeOf = async (response: Response): Promise<string | undefined> => ((await response.clone().json().catch(() => undefined)) as { error?: { code?: string } } | undefined)?.error?.code;

describe.each(['acme', 'globex'] as const)("the doc's tenant policy, for the operators of %s", (tenant) => {
  const other = OTHER[tenant];

  it("lists and streams its own tenant's jobs, and only when the page is filtered on that tenant", async () => {
    const list = await call(tenant, `/jobs?tenantId=${tenant}`);
    expect(list.status).toBe(200);
    const listed = ((await list.json()) as { jobs: JobSnapshot[] }).jobs;
    expect(listed.map((job) => job.id)).toEqual(expect.arrayContaining(Object.values(jobs[tenant]).map((job) => job.id)));
    expect(listed.every((job) => job.tenantId === tenant)).toBe(true);

    expect((await call(tenant, `/jobs?tenantId=${tenant}&status=failed&plugin=import-csv`)).status).toBe(200);
    expect((await call(tenant, `/jobs/events?tenantId=${tenant}`)).status).toBe(200);
    expect((await call(tenant, `/jobs/events?tenantId=${tenant}&plugin=render`)).status).toBe(200);

    for (const path of ['/jobs', `/jobs?tenantId=${other}`, '/jobs/events', `/jobs/events?tenantId=${other}`, '/jobs/events?plugin=render']) {
      const refused = await call(tenant, path);
      expect(refused.status, path).toBe(403);
      expect(await codeOf(refused), path).toBe('FORBIDDEN');
    }
  });

  it("reads and follows its own jobs; another tenant's read exactly like jobs that do not exist", async () => {
    const own = jobs[tenant];
    expect((await call(tenant, `/jobs/${own.completed.id}`)).status).toBe(200);
    expect((await call(tenant, `/jobs/${own.completed.id}/events`)).status).toBe(200);
    expect((await call(tenant, `/jobs/events?id=${own.completed.id}&id=${own.failed.id}`)).status).toBe(200);

    const missing = await call(tenant, '/jobs/AAAAAAAAAAAAAAAAAAAAAA');
    expect(missing.status).toBe(404);
    const theirs = jobs[other];
    for (const path of [`/jobs/${theirs.completed.id}`, `/jobs/${theirs.completed.id}/events`, `/jobs/events?id=${own.completed.id}&id=${theirs.completed.id}`]) {
      const refused = await call(tenant, path);
      expect(refused.status, path).toBe(404);
      expect(await codeOf(refused), path).toBe('JOB_NOT_FOUND');
    }
  });

  it("cancels and re-runs its own jobs only: another tenant's are not found and stay as they are", async () => {
    const [own, theirs] = [await jobsOf(tenant), await jobsOf(other)];
    const theirsBefore = (await tracker.list({ tenantId: other })).jobs.length;
    expect((await call(tenant, `/jobs/${theirs.running.id}/cancel`, 'POST')).status).toBe(404);
    expect((await call(tenant, `/jobs/${theirs.failed.id}/retry`, 'POST')).status).toBe(404);
    expect((await tracker.get(theirs.running.id))?.status).toBe('running');
    expect((await tracker.list({ tenantId: other })).jobs).toHaveLength(theirsBefore); // no re-run was made

    const rerun = await call(tenant, `/jobs/${own.failed.id}/retry`, 'POST');
    expect(rerun.status).toBe(202);
    expect(((await rerun.json()) as JobSnapshot).tenantId).toBe(tenant);
    const cancelled = await call(tenant, `/jobs/${own.running.id}/cancel`, 'POST');
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as JobSnapshot).status).toBe('cancelled');
  });

  it('reads the plugins, but not the stats, which count every tenant', async () => {
    expect((await call(tenant, '/plugins')).status).toBe(200);
    const stats = await call(tenant, '/stats');
    expect(stats.status).toBe(403);
    expect(await codeOf(stats)).toBe('FORBIDDEN');
  });
});

describe("the doc's tenant policy, without an operator's session", () => {
  it.each([
    ['no cookie', ''],
    ['other cookies only', 'theme=dark; lang=en'],
    ['an unknown session', 'session=s-nobody'],
    ['a session name inside another cookie', 'xsession=s-acme-ops'],
  ])('refuses every call with %s', async (_name, cookie) => {
    const { completed, running } = await jobsOf('acme');
    const paths: [string, string?][] = [
      ['/jobs?tenantId=acme'],
      ['/jobs/events?tenantId=acme'],
      [`/jobs/${completed.id}`],
      [`/jobs/${completed.id}/events`],
      [`/jobs/events?id=${completed.id}`],
      [`/jobs/${running.id}/cancel`, 'POST'],
      ['/plugins'],
      ['/stats'],
    ];
    for (const [path, method] of paths) {
      const refused = await call({ cookie }, path, method);
      expect(refused.status, path).toBe(403);
    }
    expect((await tracker.get(running.id))?.status).toBe('running');
  });
});
