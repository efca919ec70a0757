import { describe, expectTypeOf, it } from 'vitest';
import { createJobClient, type AnyPlugins, type JobClient, type JobEvent, type JobSnapshot, type JobStatusEvent, type JobwireErrorCode, type PluginInputOf, type PluginOutputOf, type TypedJob } from '../../src/client/index.js';
import type { AppPlugins } from './plugins.js';

const client = createJobClient<AppPlugins>({ baseUrl: 'http://localhost:3000' });

describe('the client is typed from the server plugins', () => {
  it('submit takes each plugin’s input and nothing else', async () => {
    const job = await client.submit('transcribe', { audio: 'a.wav' });
    expectTypeOf(job.plugin).toEqualTypeOf<'transcribe'>();
    // The job holds the parsed input: the default is filled in.
    expectTypeOf(job.input).toEqualTypeOf<{ audio: string; language: string }>();
    expectTypeOf<PluginInputOf<AppPlugins, 'transcribe'>>().toEqualTypeOf<{ audio: string; language?: string | undefined }>();
    await client.submit('count', { to: 3 }, { tenantId: 'acme', attempts: 2 });

    // @ts-expect-error a wrong input type
    await client.submit('transcribe', { audio: 1 });
    // @ts-expect-error a missing field
    await client.submit('transcribe', {});
    // @ts-expect-error the input of another plugin
    await client.submit('count', { audio: 'a.wav' });
    // @ts-expect-error a plugin the server does not have
    await client.submit('resize', {});
    // @ts-expect-error an unknown submit option
    await client.submit('count', { to: 1 }, { retries: 3 });
  });

  it('wait gives the result type: the output schema’s, or what run returns', async () => {
    const done = await client.wait(await client.submit('transcribe', { audio: 'a.wav' }));
    expectTypeOf(done.result).toEqualTypeOf<{ text: string } | undefined>();
    const counted = await client.wait(await client.submit('count', { to: 3 }));
    expectTypeOf(counted.result).toEqualTypeOf<{ counted: number; at: string } | undefined>();
    expectTypeOf<PluginOutputOf<AppPlugins, 'count'>>().toEqualTypeOf<{ counted: number; at: string }>();
    // By id alone the plugin is not known: any of the results.
    const byId = await client.wait('some-id');
    expectTypeOf(byId.result).toEqualTypeOf<{ text: string } | { counted: number; at: string } | undefined>();
    // A typed job is a JobSnapshot.
    expectTypeOf(done).toExtend<JobSnapshot>();
  });

  it('follow and watch iterate job events; the rest returns the routes’ JSON', () => {
    expectTypeOf(client.follow('id')).toEqualTypeOf<AsyncIterableIterator<JobEvent>>();
    expectTypeOf(client.follow(['a', 'b'], { lastEventId: 'a:3,b:1', onError: (error) => expectTypeOf(error.code).toEqualTypeOf<JobwireErrorCode>() })).toEqualTypeOf<AsyncIterableIterator<JobEvent>>();
    expectTypeOf(client.watch({ tenantId: 'acme' }, { onOpen: () => {} })).toEqualTypeOf<AsyncIterableIterator<JobStatusEvent>>();
    expectTypeOf(client.get('id')).toEqualTypeOf<Promise<JobSnapshot | undefined>>();
    // @ts-expect-error watch has no replay and no paging
    client.watch({ limit: 10 });
  });

  it('without plugin types, any plugin name and any input are accepted, and results are unknown', async () => {
    const untyped = createJobClient({ baseUrl: '/api' });
    expectTypeOf(untyped).toEqualTypeOf<JobClient<AnyPlugins>>();
    const job = await untyped.submit('anything', { whatever: true });
    expectTypeOf(job).toEqualTypeOf<TypedJob<AnyPlugins, 'anything'>>();
    expectTypeOf(job.result).toEqualTypeOf<unknown>();
    await untyped.submit('other', 42);
  });
});
