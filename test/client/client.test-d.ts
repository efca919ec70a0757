import { describe, expectTypeOf, it } from 'vitest';
import {
  createJobClient,
  isStatusEvent,
  type AnyPlugins,
  type JobClient,
  type JobEvent,
  type JobEventOf,
  type JobGapEvent,
  type JobOf,
  type JobOutputEvent,
  type JobPage,
  type JobPageOf,
  type JobSnapshot,
  type JobStatusEvent,
  type JobStatusEventOf,
  type JobwireErrorCode,
  type JsonForm,
  type PluginInputOf,
  type PluginMap,
  type PluginOutputOf,
  type PluginParsedInputOf,
  type TypedJob,
} from '../../src/client/index.js';
import type { AppPlugins, count, StampPlugins, transcribe } from './plugins.js';

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
    expectTypeOf(client.follow('id')).toEqualTypeOf<AsyncIterableIterator<JobEventOf<AppPlugins>>>();
    expectTypeOf(client.follow(['a', 'b'], { lastEventId: 'a:3,b:1', onError: (error) => expectTypeOf(error.code).toEqualTypeOf<JobwireErrorCode>() })).toEqualTypeOf<AsyncIterableIterator<JobEventOf<AppPlugins>>>();
    expectTypeOf(client.watch({ tenantId: 'acme' }, { onOpen: () => {} })).toEqualTypeOf<AsyncIterableIterator<JobStatusEventOf<AppPlugins>>>();
    expectTypeOf(client.get('id')).toEqualTypeOf<Promise<JobOf<AppPlugins> | undefined>>();
    // @ts-expect-error watch has no replay and no paging
    client.watch({ limit: 10 });
  });

  it('follow takes an id, ids, or a value that is either; wait takes the connection callbacks of follow', async () => {
    const many = ['a', 'b'] as const;
    const either = ((): string | readonly string[] => (Math.random() > 0.5 ? 'a' : many))();
    expectTypeOf(client.follow(either)).toEqualTypeOf<AsyncIterableIterator<JobEventOf<AppPlugins>>>();
    expectTypeOf(client.follow(either, { signal: AbortSignal.timeout(1_000), onOpen: () => {} })).toEqualTypeOf(client.follow(['a']));
    // @ts-expect-error ids are strings
    client.follow(either as string | readonly number[]);

    const job = await client.submit('transcribe', { audio: 'a.wav' });
    const done = await client.wait(job, { signal: AbortSignal.timeout(60_000), onError: (error) => expectTypeOf(error.code).toEqualTypeOf<JobwireErrorCode>(), onOpen: () => {} });
    expectTypeOf(done.result).toEqualTypeOf<{ text: string } | undefined>();
    expectTypeOf(client.wait('id', { onError: () => {} })).toEqualTypeOf<Promise<JobOf<AppPlugins>>>();
    // @ts-expect-error wait starts at the job's first event: no lastEventId
    void client.wait('id', { lastEventId: 3 });
  });

  it('the plugins may be declared as an interface, which has no index signature', async () => {
    interface InterfacePlugins {
      transcribe: typeof transcribe;
      count: typeof count;
    }
    const typed = createJobClient<InterfacePlugins>({ baseUrl: '/api' });
    const job = await typed.submit('transcribe', { audio: 'a.wav' });
    expectTypeOf(job).toEqualTypeOf<TypedJob<InterfacePlugins, 'transcribe'>>();
    expectTypeOf((await typed.wait(job)).result).toEqualTypeOf<{ text: string } | undefined>();
    expectTypeOf<JobOf<InterfacePlugins>>().toEqualTypeOf<TypedJob<InterfacePlugins, 'transcribe'> | TypedJob<InterfacePlugins, 'count'>>();
    expectTypeOf<PluginOutputOf<InterfacePlugins, 'count'>>().toEqualTypeOf<PluginOutputOf<AppPlugins, 'count'>>();
    // @ts-expect-error still checked: a wrong input
    await typed.submit('transcribe', { audio: 1 });
    // @ts-expect-error still checked: a plugin the server does not have
    await typed.submit('resize', {});

    interface NotPlugins {
      transcribe: typeof transcribe;
      name: string;
    }
    // @ts-expect-error a member that is not a plugin
    createJobClient<NotPlugins>({ baseUrl: '/api' });

    // Code generic over any client's plugins keeps compiling, with `PluginMap` or `PluginMap<P>`.
    const anyOf = <P extends PluginMap>(of: JobClient<P>) => of.wait('id');
    const eachOf = <P extends PluginMap<P>>(of: JobClient<P>) => of.wait('id');
    expectTypeOf(anyOf(createJobClient({ baseUrl: '/' }))).toEqualTypeOf<Promise<JobSnapshot>>();
    expectTypeOf(eachOf(typed)).toEqualTypeOf<Promise<JobOf<InterfacePlugins>>>();
  });

  it('every job the client reads is a JobOf: narrowing on its plugin types its input and result', async () => {
    expectTypeOf<JobOf<AppPlugins>>().toEqualTypeOf<TypedJob<AppPlugins, 'transcribe'> | TypedJob<AppPlugins, 'count'>>();
    expectTypeOf<JobOf<AppPlugins>>().toExtend<JobSnapshot>();
    const job = await client.get('id');
    if (job?.plugin === 'transcribe') {
      expectTypeOf(job.input).toEqualTypeOf<{ audio: string; language: string }>();
      expectTypeOf(job.result).toEqualTypeOf<{ text: string } | undefined>();
      // @ts-expect-error a transcript has no count
      void job.result?.counted;
    } else if (job) expectTypeOf(job.result).toEqualTypeOf<{ counted: number; at: string } | undefined>();

    const page = await client.list({ plugin: 'count' });
    expectTypeOf(page).toEqualTypeOf<JobPageOf<AppPlugins>>();
    expectTypeOf(page.jobs).toEqualTypeOf<JobOf<AppPlugins>[]>();
    expectTypeOf(page.nextCursor).toEqualTypeOf<string | undefined>();
    expectTypeOf(client.cancel('id')).toEqualTypeOf<Promise<JobOf<AppPlugins>>>();
    expectTypeOf(client.retry('id')).toEqualTypeOf<Promise<JobOf<AppPlugins>>>();
    expectTypeOf(client.wait('id')).toEqualTypeOf<Promise<JobOf<AppPlugins>>>();

    for await (const event of client.follow(['a', 'b'])) {
      if (event.type === 'output') expectTypeOf(event).toEqualTypeOf<JobOutputEvent>();
      else if (event.type === 'gap') expectTypeOf(event).toEqualTypeOf<JobGapEvent>();
      else {
        expectTypeOf(event.job).toEqualTypeOf<JobOf<AppPlugins>>();
        if (event.type === 'completed' && event.job.plugin === 'transcribe') expectTypeOf(event.job.result).toEqualTypeOf<{ text: string } | undefined>();
      }
      if (isStatusEvent(event)) expectTypeOf(event.job).toEqualTypeOf<JobOf<AppPlugins>>();
      expectTypeOf(event).toExtend<JobEvent>();
    }
    for await (const event of client.watch()) {
      expectTypeOf(event).toExtend<JobStatusEvent>();
      if (event.job.plugin === 'count') expectTypeOf(event.job.input).toEqualTypeOf<{ to: number }>();
    }
  });

  it('inputs and results are typed as the JSON the client receives: a Date is a string', async () => {
    const stamps = createJobClient<StampPlugins>({ baseUrl: '/api' });
    const job = await stamps.wait(await stamps.submit('stamp', { when: '2025-01-01' }));
    expectTypeOf(job.input).toEqualTypeOf<{ when: string; note?: string }>();
    // @ts-expect-error the input's date arrives as an ISO string
    job.input.when.getTime();
    const result = job.result!;
    expectTypeOf(result).toEqualTypeOf<{ at: string; when: string; note?: string; list: readonly [string, null, null]; dates: string[] }>();
    // @ts-expect-error the result's date arrives as an ISO string
    result.at.getTime();
    // @ts-expect-error a function is not sent
    void result.format;
    expectTypeOf<PluginOutputOf<StampPlugins, 'stamp'>>().toEqualTypeOf<typeof result>();
    expectTypeOf<PluginParsedInputOf<StampPlugins, 'stamp'>>().toEqualTypeOf<{ when: string; note?: string }>();
    // What the client sends stays the schema's input.
    expectTypeOf<PluginInputOf<StampPlugins, 'stamp'>>().toEqualTypeOf<{ when: unknown; note?: string | undefined }>();
    const listed = (await stamps.list()).jobs[0];
    if (listed?.plugin === 'stamp') expectTypeOf(listed.result?.at).toEqualTypeOf<string | undefined>();
  });

  it('JsonForm is what JSON.stringify then JSON.parse gives', () => {
    expectTypeOf<JsonForm<Date>>().toEqualTypeOf<string>();
    expectTypeOf<JsonForm<{ toJSON(): { n: number } }>>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<JsonForm<string | number | boolean | null>>().toEqualTypeOf<string | number | boolean | null>();
    expectTypeOf<JsonForm<bigint>>().toEqualTypeOf<never>();
    expectTypeOf<JsonForm<undefined>>().toEqualTypeOf<undefined>();
    expectTypeOf<JsonForm<void>>().toEqualTypeOf<undefined>();
    expectTypeOf<JsonForm<() => void>>().toEqualTypeOf<undefined>();
    expectTypeOf<JsonForm<unknown>>().toEqualTypeOf<unknown>();
    expectTypeOf<JsonForm<any>>().toBeAny();
    expectTypeOf<JsonForm<{ a: Date; b: undefined; c: () => void; d: string | undefined; e?: number; f: symbol; [Symbol.iterator]: number }>>().toEqualTypeOf<{ a: string; d?: string; e?: number }>();
    expectTypeOf<JsonForm<(Date | undefined | (() => void))[]>>().toEqualTypeOf<(string | null)[]>();
    expectTypeOf<JsonForm<readonly [Date, symbol]>>().toEqualTypeOf<readonly [string, null]>();
    expectTypeOf<JsonForm<Record<string, Date>>>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<JsonForm<{ nested: { deep: Date[] } }>>().toEqualTypeOf<{ nested: { deep: string[] } }>();
    expectTypeOf<JsonForm<Map<string, number>>>().toEqualTypeOf<Record<string, never>>();
  });

  it('without plugin types, any plugin name and any input are accepted, and results are unknown', async () => {
    const untyped = createJobClient({ baseUrl: '/api' });
    expectTypeOf(untyped).toEqualTypeOf<JobClient<AnyPlugins>>();
    const job = await untyped.submit('anything', { whatever: true });
    expectTypeOf(job).toEqualTypeOf<TypedJob<AnyPlugins, 'anything'>>();
    expectTypeOf(job.result).toEqualTypeOf<unknown>();
    await untyped.submit('other', 42);
    // The jobs and events it reads are the plain ones.
    expectTypeOf<JobOf<AnyPlugins>>().toEqualTypeOf<JobSnapshot>();
    expectTypeOf(untyped.get('id')).toEqualTypeOf<Promise<JobSnapshot | undefined>>();
    expectTypeOf(untyped.list()).toEqualTypeOf<Promise<JobPage>>();
    expectTypeOf(untyped.follow('id')).toEqualTypeOf<AsyncIterableIterator<JobEvent>>();
    expectTypeOf(untyped.watch()).toEqualTypeOf<AsyncIterableIterator<JobStatusEvent>>();
  });
});
