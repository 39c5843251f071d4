/**
 * Model-based test of the pure entity scheduler (lib/durable/entity-scheduler.ts) with fast-check:
 * random interleavings of client signals, entity steps, orchestrations that lock random sets of
 * entities and call them inside their critical section, and orchestrations that end abruptly
 * (terminated, failed) while holding or waiting for locks. Invariants:
 * - an entity runs the requests of one sender in the order they arrived;
 * - while an entity is locked, only its holder's requests run there;
 * - at most one orchestration holds an entity, and a holder holds its whole set before it calls;
 * - whatever happened, running everything fairly reaches quiescence: every orchestration finishes, no
 *   entity stays locked, every queue drains (no deadlock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyStep,
  nextStep,
  type EntityRequest,
  type EntitySchedule,
} from '../../lib/durable/entity-scheduler';

const ENTITIES = ['@e@0', '@e@1', '@e@2', '@e@3'];

interface Orch {
  id: string;
  lockSet: string[];
  calls: string[];
  phase: 'start' | 'locking' | 'section' | 'waitingCall' | 'done';
  alive: boolean;
  next: number;
  granted: boolean;
}

type Action =
  | { t: 'signal'; e: number }
  | { t: 'entity'; e: number }
  | { t: 'orch'; o: number }
  | { t: 'kill'; o: number };

function simulate(orchSpecs: Array<{ set: number[]; calls: number[] }>, actions: Action[]): void {
  const sched = new Map<string, EntitySchedule>(ENTITIES.map((e) => [e, { queue: [] }]));
  const orchs: Orch[] = orchSpecs.map((spec, i) => {
    const lockSet = [...new Set(spec.set.map((k) => ENTITIES[k % ENTITIES.length]!))].sort();
    return {
      id: `o${i}`,
      lockSet,
      calls: spec.calls.map((c) => lockSet[c % lockSet.length]!),
      phase: 'start',
      alive: true,
      next: 0,
      granted: false,
    };
  });
  const byId = new Map(orchs.map((o) => [o.id, o]));
  let seq = 0;
  /** Per entity and sender: sequence numbers in arrival order, and in processing order. */
  const arrived = new Map<string, number[]>();
  const processed = new Map<string, number[]>();
  const seqOf = new Map<EntityRequest, number>();
  const send = (target: string, r: EntityRequest): void => {
    const n = seq++;
    seqOf.set(r, n);
    const k = `${target}|${r.parent ?? 'client'}`;
    arrived.set(k, [...(arrived.get(k) ?? []), n]);
    sched.get(target)!.queue.push(r);
  };
  const opts = { alive: (id: string) => byId.get(id)?.alive ?? false };

  const entityStep = (e: string): boolean => {
    const s = sched.get(e)!;
    const step = nextStep(s, opts);
    if (step.kind === 'idle') return false;
    if (step.kind === 'batch') {
      for (const r of step.requests) {
        if (s.lockedBy !== undefined)
          assert.equal(
            r.parent,
            s.lockedBy,
            `${e} ran ${r.id} of ${r.parent ?? 'a client'} while locked by ${s.lockedBy}`,
          );
        const k = `${e}|${r.parent ?? 'client'}`;
        processed.set(k, [...(processed.get(k) ?? []), seqOf.get(r)!]);
        if (!r.signal && r.parent) {
          const o = byId.get(r.parent)!;
          if (o.alive && o.phase === 'waitingCall') o.phase = 'section';
        }
      }
    } else if (step.kind === 'lock') {
      const r = step.request;
      assert.equal(s.lockedBy, undefined, `${e} was locked twice`);
      const pos = r.position ?? 0;
      if (pos + 1 < r.lockSet!.length) send(r.lockSet![pos + 1]!, { ...r, position: pos + 1 });
      else {
        const o = byId.get(r.parent!)!;
        if (o.alive) {
          // The whole set is held by this orchestration now.
          for (const x of o.lockSet)
            assert.ok(x === e || sched.get(x)!.lockedBy === o.id, `${o.id} holds ${x}`);
          o.granted = true;
          o.phase = 'section';
        }
      }
    }
    applyStep(s, step);
    return true;
  };

  const orchStep = (o: Orch): boolean => {
    if (!o.alive || o.phase === 'done' || o.phase === 'locking' || o.phase === 'waitingCall') return false;
    if (o.phase === 'start') {
      if (o.lockSet.length === 0) {
        o.phase = 'done';
        o.alive = false;
        return true;
      }
      send(o.lockSet[0]!, {
        id: `${o.id}:lock`,
        kind: 'lock',
        lockSet: o.lockSet,
        position: 0,
        parent: o.id,
      });
      o.phase = 'locking';
      return true;
    }
    if (o.next < o.calls.length) {
      send(o.calls[o.next]!, { id: `${o.id}:c${o.next}`, kind: 'op', op: 'op', parent: o.id });
      o.next++;
      o.phase = 'waitingCall';
      return true;
    }
    for (const x of o.lockSet) send(x, { id: `${o.id}:r${x}`, kind: 'release', parent: o.id });
    o.phase = 'done';
    o.alive = false;
    return true;
  };

  for (const a of actions) {
    if (a.t === 'signal') {
      const e = ENTITIES[a.e % ENTITIES.length]!;
      send(e, { id: `s${seq}`, kind: 'op', op: 'op', signal: true });
    } else if (a.t === 'entity') entityStep(ENTITIES[a.e % ENTITIES.length]!);
    else if (a.t === 'orch') {
      const o = orchs[a.o % orchs.length];
      if (o) orchStep(o);
    } else {
      const o = orchs[a.o]; // most picks miss: ends are rarer than steps
      if (o && o.phase !== 'start') o.alive = false; // terminated or failed mid-way
    }
  }
  // Fair run to quiescence: it must get there (no deadlock, no livelock).
  for (let round = 0; ; round++) {
    assert.ok(round < 10_000, 'no quiescence: a deadlock or livelock');
    let moved = false;
    for (const e of ENTITIES) while (entityStep(e)) moved = true;
    for (const o of orchs) if (orchStep(o)) moved = true;
    if (!moved) break;
  }
  for (const o of orchs) assert.ok(!o.alive, `${o.id} never finished (phase ${o.phase}): deadlock`);
  for (const [e, s] of sched) {
    assert.equal(s.lockedBy, undefined, `${e} stays locked by ${s.lockedBy}`);
    assert.equal(s.queue.length, 0, `${e} keeps ${s.queue.length} request(s)`);
  }
  for (const [k, got] of processed) {
    const order = arrived.get(k)!.filter((n) => got.includes(n));
    assert.deepEqual(got, order, `${k}: requests ran out of arrival order`);
  }
}

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ t: fc.constant('signal' as const), e: fc.nat(7) }),
  fc.record({ t: fc.constant('entity' as const), e: fc.nat(7) }),
  fc.record({ t: fc.constant('entity' as const), e: fc.nat(7) }),
  fc.record({ t: fc.constant('orch' as const), o: fc.nat(7) }),
  fc.record({ t: fc.constant('orch' as const), o: fc.nat(7) }),
  fc.record({ t: fc.constant('kill' as const), o: fc.nat(30) }),
);

test('random interleavings keep per-sender order, exclusive locks, and always drain', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          set: fc.array(fc.nat(7), { minLength: 1, maxLength: 3 }),
          calls: fc.array(fc.nat(7), { maxLength: 4 }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      fc.array(action, { maxLength: 120 }),
      (orchs, actions) => simulate(orchs, actions),
    ),
    { numRuns: 2000 },
  );
});
