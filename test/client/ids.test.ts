import { describe, expect, it } from 'vitest';
import { createJobClient, isJobwireError, type JobwireError } from '../../src/client/index.js';
import { collect, rejection } from '../helpers/deferred.js';
import { startJobServer } from './server.js';

/** What no job can be called: `events` names the route of several jobs' stream; the rest is not a job id. */
const NOT_IDS = ['events', '', 'a/b', '..', 'a b', 'ü', 'x'.repeat(129), '%2F', 'a?b', 'a#b'];

/** A client whose every request fails the test: an id it checks must never reach the network. */
function offline() {
  const requests: string[] = [];
  const client = createJobClient({
    baseUrl: 'http://api.test',
    fetch: async (input) => {
      requests.push(String(input));
      throw new Error(`no request expected, got ${String(input)}`);
    },
  });
  return { client, requests };
}

async function notFound(promise: Promise<unknown>): Promise<JobwireError> {
  const error = await rejection(promise);
  if (!isJobwireError(error)) throw new Error(`expected a JobwireError, got ${String(error)}`);
  expect(error.code).toBe('JOB_NOT_FOUND');
  return error;
}

describe('job ids the client refuses without a request', () => {
  it('get resolves undefined; cancel, retry, output, wait and follow reject JOB_NOT_FOUND, as the server would for an unknown job', async () => {
    const { client, requests } = offline();
    for (const id of NOT_IDS) {
      expect(await client.get(id), JSON.stringify(id)).toBeUndefined();
      expect((await notFound(client.cancel(id, 'why'))).message).toBe(`Unknown job ${id}`);
      await notFound(client.retry(id));
      await notFound(client.output(id));
      await notFound(client.wait(id));
      await notFound(collect(client.follow(id)));
      await notFound(collect(client.follow(['abc', id])));
    }
    const many = await notFound(collect(client.follow(['abc', 'events', ''])));
    expect([many.message, many.details]).toEqual(['Unknown job events', { jobId: 'events' }]);
    expect(requests).toEqual([]);
  });

  it('ids of 1–128 letters, digits, _ and - are asked for', async () => {
    const { client, requests } = offline();
    for (const id of ['a', 'A-z_09', 'x'.repeat(128), 'Events', 'events-1']) await rejection(client.get(id));
    expect(requests.map((url) => new URL(url).pathname)).toEqual(['/jobs/a', '/jobs/A-z_09', `/jobs/${'x'.repeat(128)}`, '/jobs/Events', '/jobs/events-1']);
  });

  it('against a server: get("events") and get("") answer undefined at once, and open no stream', async () => {
    const server = await startJobServer();
    try {
      const client = createJobClient({ baseUrl: server.url });
      expect(await client.get('events')).toBeUndefined();
      expect(await client.get('')).toBeUndefined();
      await notFound(client.wait('events'));
      expect(server.streams).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
