import { describe, expectTypeOf, it } from 'vitest';
import type { AnyPlugins, JobClient, TypedJob } from '../../src/client/index.js';
import type { JobSnapshot } from '../../src/index.js';
import type { JobwireError } from '../../src/errors.js';
import { useJob, useJobClient, useSubmit, type JobOutputState, type RegisteredPlugins } from '../../src/react/index.js';
import type { PluginsOfRegister } from '../../src/react/register.js';
import type { echo, TestPlugins } from './jobwire-app.js';

declare const client: JobClient<TestPlugins>;
declare const anyClient: JobClient;
declare const snapshot: JobSnapshot;

describe('jobwire/react types', () => {
  it('useSubmit takes the input of its plugin, from the plugins the app registered', () => {
    expectTypeOf<RegisteredPlugins>().toEqualTypeOf<TestPlugins>();
    const { submit, job, error, pending } = useSubmit('echo');
    void submit({ text: 'hi' });
    void submit({ text: 'hi' }, { tenantId: 'acme', priority: 2 });
    // @ts-expect-error a number is not the text echo takes
    void submit({ text: 1 });
    // @ts-expect-error echo needs a text
    void submit({});
    // @ts-expect-error not a submit option
    void submit({ text: 'hi' }, { tenant: 'acme' });
    // @ts-expect-error no such plugin on the server
    useSubmit('transcribe');
    expectTypeOf(job).toEqualTypeOf<TypedJob<TestPlugins, 'echo'> | undefined>();
    expectTypeOf(submit).returns.toEqualTypeOf<Promise<TypedJob<TestPlugins, 'echo'> | undefined>>();
    expectTypeOf<NonNullable<typeof job>['input']>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<NonNullable<typeof job>['result']>().toEqualTypeOf<{ text: string } | undefined>();
    expectTypeOf(error).toEqualTypeOf<JobwireError | undefined>();
    expectTypeOf(pending).toEqualTypeOf<boolean>();
  });

  it('Register takes the plugins as an interface too', () => {
    interface InterfacePlugins {
      echo: typeof echo;
    }
    expectTypeOf<PluginsOfRegister<{ plugins: InterfacePlugins }>>().toEqualTypeOf<InterfacePlugins>();
    expectTypeOf<PluginsOfRegister<{ plugins: TestPlugins }>>().toEqualTypeOf<TestPlugins>();
    expectTypeOf<PluginsOfRegister<object>>().toEqualTypeOf<AnyPlugins>();
    const { submit } = useSubmit<InterfacePlugins>('echo');
    void submit({ text: 'hi' });
    // @ts-expect-error echo takes a text
    void submit({ text: 1 });
    expectTypeOf(useJobClient<InterfacePlugins>()).toEqualTypeOf<JobClient<InterfacePlugins>>();
  });

  it('a client passed to useSubmit types it from its own plugin map', () => {
    const { submit, job } = useSubmit('controlled', { client });
    void submit({ note: 'x' });
    void submit({});
    // @ts-expect-error note is a string
    void submit({ note: 3 });
    expectTypeOf(job).toEqualTypeOf<TypedJob<TestPlugins, 'controlled'> | undefined>();
    // @ts-expect-error no such plugin on this client's server
    useSubmit('nope', { client });
  });

  it('an untyped client takes any plugin name and unknown input', () => {
    const { submit, job } = useSubmit('anything', { client: anyClient });
    void submit(42);
    void submit({ whatever: true });
    expectTypeOf(job).toEqualTypeOf<TypedJob<AnyPlugins, 'anything'> | undefined>();
    expectTypeOf<NonNullable<typeof job>['result']>().toEqualTypeOf<unknown>();
  });

  it('useJob returns the job, its output, the connection state and two actions that never reject', () => {
    const { job, output, error, reconnecting, cancel, retry } = useJob('id');
    useJob(undefined);
    useJob(null);
    useJob('id', { client });
    // @ts-expect-error an id is a string
    useJob(42);
    expectTypeOf(job).toEqualTypeOf<JobSnapshot | undefined>();
    expectTypeOf(output).toEqualTypeOf<JobOutputState>();
    expectTypeOf(output.text).toEqualTypeOf<string>();
    expectTypeOf(output.chunks).toEqualTypeOf<readonly unknown[]>();
    expectTypeOf(output.gap).toEqualTypeOf<boolean>();
    expectTypeOf(error).toEqualTypeOf<JobwireError | undefined>();
    expectTypeOf(reconnecting).toEqualTypeOf<boolean>();
    expectTypeOf(cancel).toEqualTypeOf<(reason?: string) => Promise<JobSnapshot | undefined>>();
    expectTypeOf(retry).toEqualTypeOf<() => Promise<JobSnapshot | undefined>>();
  });

  it('useJob of a job useSubmit answered with types its result from the plugin', () => {
    const submitted = useSubmit('echo').job;
    const { job, cancel, retry } = useJob(submitted);
    expectTypeOf(job).toEqualTypeOf<TypedJob<TestPlugins, 'echo'> | undefined>();
    expectTypeOf<NonNullable<typeof job>['result']>().toEqualTypeOf<{ text: string } | undefined>();
    expectTypeOf(retry).toEqualTypeOf<() => Promise<TypedJob<TestPlugins, 'echo'> | undefined>>();
    expectTypeOf(cancel).returns.toEqualTypeOf<Promise<TypedJob<TestPlugins, 'echo'> | undefined>>();
    expectTypeOf(useJob(snapshot).job).toEqualTypeOf<JobSnapshot | undefined>();
    // @ts-expect-error not a job
    useJob({ id: 'x' });
  });

  it('useJobClient is the provider client, typed from the registered plugins', () => {
    expectTypeOf(useJobClient()).toEqualTypeOf<JobClient<TestPlugins>>();
    expectTypeOf(useJobClient<AnyPlugins>()).toEqualTypeOf<JobClient<AnyPlugins>>();
  });
});
