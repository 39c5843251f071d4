/**
 * An orchestration instance as the engine holds it in memory: its working and committed records, the
 * current execution's history, its message queue and its outbox of uncommitted episodes.
 *
 * `rec` runs ahead of storage while commits are in flight; `committed` and `committedHistory` are what
 * the last durable commit wrote, and are the only state clients see. Each instance has one drain loop
 * (`running`) and one commit writer (`writing`).
 */
import type { ClockTimer } from '../host/clock';
import { Ev, type HistoryEvent } from './history';
import { newExecState, type ExecState } from './exec-state';
import type { EpisodeRecord, InboxMessage, InstanceRecord } from './store';

/** A message queued for an instance's next episode. */
export type Msg =
  | { kind: 'start' }
  | { kind: 'event'; ev: HistoryEvent; key?: string }
  | { kind: 'control'; op: 'terminate' | 'suspend' | 'resume'; reason: string; key?: string };

/** Queues a message for an instance and wakes its drain loop (instance-actor.ts). */
export type Deliver = (inst: Instance, msg: Msg) => void;

export interface Instance {
  /** The working record: ahead of storage while commits are in flight. */
  rec: InstanceRecord;
  /** The record as last committed: what clients see. */
  committed: InstanceRecord;
  /** History of the current execution is in memory (always for non-terminal instances). */
  loaded: boolean;
  history: HistoryEvent[];
  /** The compact history handed to durable-functions (only the events it reads). */
  replay: any[];
  exec: ExecState;
  episode: number;
  pending: Msg[];
  running: boolean;
  lastMs: number;
  timers: Map<number, ClockTimer>;
  waiters: Array<() => void>;
  /** Inbox rows consumed by committed episodes, deleted in the background. */
  consumed: string[];
  /** Episodes planned but not yet committed, oldest first (group commit). */
  outbox: OutboxItem[];
  writing: boolean;
  /** Called whenever the outbox shrinks. */
  drained: Array<() => void>;
  /** Set until the instance row is first written; resolves when it is. */
  created?: Promise<void>;
  onCreated?: () => void;
  onCreateFailed?: (err: Error) => void;
  /** The committed prefix of a history array (clients see committed history only). */
  committedHistory: { events: HistoryEvent[]; length: number };
}

/** One planned episode waiting in an instance's outbox for its commit. */
export interface OutboxItem {
  execSeq: number;
  episode: number;
  record: EpisodeRecord;
  /** The instance record after this episode. */
  snapshot: InstanceRecord;
  /** Whether the instance row must be written (status, custom status or execution changed). */
  writeInstance: boolean;
  /** The history array and its length after this episode. */
  history: HistoryEvent[];
  historyLength: number;
  after?: () => void;
}

export function newInstance(rec: InstanceRecord, loaded: boolean): Instance {
  return {
    rec,
    loaded,
    history: [],
    replay: [],
    exec: newExecState(),
    episode: 0,
    pending: [],
    running: false,
    lastMs: 0,
    timers: new Map(),
    waiters: [],
    consumed: [],
    outbox: [],
    writing: false,
    drained: [],
    committed: rec,
    committedHistory: { events: [], length: 0 },
  };
}

/** The message an inbox row (a client's raise event, terminate, suspend or resume) stands for. */
export function messageFromInbox(msg: InboxMessage, key: string): Msg {
  if (msg.k === 'event') {
    return {
      kind: 'event',
      key,
      ev: {
        EventType: Ev.EventRaised,
        EventId: -1,
        Timestamp: new Date(msg.at).toISOString(),
        Name: msg.name,
        Input: msg.input ?? null,
      },
    };
  }
  return { kind: 'control', op: msg.k, reason: msg.reason ?? '', key };
}
