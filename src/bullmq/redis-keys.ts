/**
 * The names of one queue's jobwire keys in Redis, all under `<prefix>:{<queue>}:jw:`. The hash tag
 * `{<queue>}` puts every key of a queue in one Redis Cluster slot, so that one script or MULTI may
 * touch any of them. When the prefix holds a hash tag itself (what BullMQ asks for on a cluster,
 * e.g. `{media}`), Redis hashes that first tag: the store then shares the slot of the
 * deployment's BullMQ queues.
 *
 * Keys: `job:<id>` (hash: `rec` the record JSON, `seq`, `status`, `plugin`, `workspaceId`,
 * `tenantKey`, `idem`, `expiresAtMs`; for output `ev` = `output` while the last event is an output
 * chunk, `outBytes`, `gapFrom`/`gapTo`/`gapAt`), `log:<id>` (status events), `out:<id>` (output
 * batches), `counts` (hash by status), `order` (counter), `index` and `index:t:<tenant>` (sorted
 * sets by order), `expiry` and `runat` (sorted sets by time), `idem:<scope>` (idempotency scope →
 * id). Channel `events`: on a cluster a sharded channel (SPUBLISH), in the queue's slot as the keys are.
 */
export class RedisKeys {
  /** What every key of the queue starts with: `<prefix>:{<queue>}:jw:`. */
  readonly base: string;
  /** Where events (`e…`), output batches (`o…`) and removals (`r…`) are published. */
  readonly channel: string;
  readonly counts: string;
  readonly order: string;
  readonly index: string;
  readonly expiry: string;
  readonly runat: string;

  constructor(prefix: string, queueName: string) {
    this.base = `${prefix}:{${queueName}}:jw:`;
    this.channel = `${this.base}events`;
    this.counts = `${this.base}counts`;
    this.order = `${this.base}order`;
    this.index = `${this.base}index`;
    this.expiry = `${this.base}expiry`;
    this.runat = `${this.base}runat`;
  }

  /** The job's hash. */
  job(id: string): string {
    return `${this.base}job:${id}`;
  }

  /** The job's status events. */
  log(id: string): string {
    return `${this.base}log:${id}`;
  }

  /** The job's output batches. */
  out(id: string): string {
    return `${this.base}out:${id}`;
  }

  /** A tenant's jobs by order. */
  tenantIndex(tenantId: string): string {
    return `${this.base}index:t:${tenantId}`;
  }

  /** An idempotency scope's job id. */
  idem(scope: string): string {
    return `${this.base}idem:${scope}`;
  }
}
