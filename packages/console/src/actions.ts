import { randomUUID } from 'node:crypto';
import { errorMessageOf, isEvkitError, redactSecrets } from '@evkit/errors';
import type { DeadLetterEntry, Replayer, ReplaySelection } from '@evkit/retry';

// Replay and park from the page: a preview (the dry run: what goes where) for the confirmation,
// then a job whose progress the page polls. Both go through @evkit/retry's replayer, so they are
// resumable and idempotent exactly as `evkit dlq replay|park` are.

export type ActionKind = 'replay' | 'park';

export interface ActionRequest {
  topic: string;
  kind: ActionKind;
  selection: ReplaySelection;
  reason: string | undefined;
}

export class BadRequest extends Error {}

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export function parseTopic(value: unknown): string {
  if (typeof value !== 'string' || !TOPIC.test(value)) throw new BadRequest('topic must be a Kafka topic name');
  return value;
}

/** The page's JSON, checked: unknown fields are refused rather than ignored. */
export function parseActionRequest(body: unknown): ActionRequest {
  if (body === null || typeof body !== 'object') throw new BadRequest('send a JSON object');
  const { topic, kind, selection = {}, reason } = body as Record<string, unknown>;
  if (kind !== 'replay' && kind !== 'park') throw new BadRequest('kind must be replay or park');
  if (kind === 'park' && (typeof reason !== 'string' || reason.trim() === '')) throw new BadRequest('a park needs a reason');
  if (selection === null || typeof selection !== 'object') throw new BadRequest('selection must be an object');
  const out: ReplaySelection = {};
  for (const [name, value] of Object.entries(selection as Record<string, unknown>)) {
    if (name === 'positions') {
      if (!Array.isArray(value) || value.length === 0 || value.length > 10_000) throw new BadRequest('positions must be a non-empty list');
      out.positions = value.map((p: unknown) => {
        const { partition, offset } = (p ?? {}) as { partition?: unknown; offset?: unknown };
        if (!Number.isInteger(partition) || typeof offset !== 'string') throw new BadRequest('each position needs an integer partition and a string offset');
        return { partition: partition as number, offset };
      });
    } else if (name === 'errorCode' || name === 'errorClass' || name === 'eventType') {
      if (typeof value !== 'string') throw new BadRequest(`${name} must be a string`);
      out[name] = value;
    } else if (name === 'from') {
      const at = typeof value === 'string' ? new Date(value) : undefined;
      if (!at || Number.isNaN(at.getTime())) throw new BadRequest('from must be an ISO 8601 time');
      out.from = at;
    } else {
      throw new BadRequest(`unknown selection field ${name}`);
    }
  }
  return { topic: parseTopic(topic), kind, selection: out, reason: typeof reason === 'string' ? reason : undefined };
}

const brief = (entries: readonly DeadLetterEntry[]) =>
  entries.slice(0, 200).map((e) => ({ position: e.position, key: e.key === null ? null : redactSecrets(e.key), eventType: e.eventType, errorCode: e.errorCode ?? e.errorClass }));

export interface Job {
  id: string;
  state: 'running' | 'done' | 'failed';
  request: { topic: string; kind: ActionKind };
  progress: { scanned: number; matched: number; sent: number };
  result: unknown;
  error: string | null;
}

export interface Actions {
  preview(request: ActionRequest): Promise<unknown>;
  start(request: ActionRequest): Job;
  job(id: string): Job | undefined;
}

export function createActions(replayer: Replayer): Actions {
  const jobs = new Map<string, Job>();
  const run = (request: ActionRequest, dryRun: boolean, onProgress: (p: { scanned: number; matched: number; sent: number }) => void) =>
    request.kind === 'replay'
      ? replayer.replay(request.topic, request.selection, { dryRun, onProgress: (p) => onProgress({ scanned: p.scanned, matched: p.matched, sent: p.replayed }) }).then((r) => ({
          kind: 'replay',
          matched: r.matched,
          sent: r.replayed,
          destinations: r.destinations,
          records: brief(r.entries),
        }))
      : replayer.park(request.topic, request.selection, { reason: request.reason!, dryRun, onProgress: (p) => onProgress({ scanned: p.scanned, matched: p.matched, sent: p.parked }) }).then((r) => ({
          kind: 'park',
          matched: r.matched,
          sent: r.parked,
          destinations: r.matched > 0 ? { [r.parkedTopic]: r.matched } : {},
          records: brief(r.entries),
        }));
  return {
    preview: (request) => run(request, true, () => {}),
    start(request) {
      const job: Job = { id: randomUUID(), state: 'running', request: { topic: request.topic, kind: request.kind }, progress: { scanned: 0, matched: 0, sent: 0 }, result: null, error: null };
      jobs.set(job.id, job);
      run(request, false, (p) => (job.progress = p)).then(
        (result) => {
          job.state = 'done';
          job.result = result;
        },
        (error: unknown) => {
          job.state = 'failed';
          job.error = redactSecrets(`${isEvkitError(error) ? `${error.code}: ` : ''}${errorMessageOf(error)}`).slice(0, 2048);
        },
      );
      return job;
    },
    job: (id) => jobs.get(id),
  };
}
