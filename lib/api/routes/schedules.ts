import { z } from 'zod';
import { SchedulePatchSchema, ScheduleSpecSchema } from '../../schedules/schema';
import {
  pageOf,
  pagingParams,
  pathParam,
  problems,
  queryParam,
  type JsonSchema,
  type RouteSpec,
} from '../catalogue';

/** Routes of issue 6's schedules (TRIGGERS: functions/schedules.ts); bodies come from lib/schedules/schema.ts. */
const TAGS = ['schedules'];
const name = pathParam('name', 'Schedule name.');

function fromZod(schema: z.ZodType): JsonSchema {
  const s = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  const { $schema: _drop, ...rest } = s as Record<string, unknown>;
  return rest;
}

const readOnlyString = (description: string, format?: string): JsonSchema => ({
  type: 'string',
  readOnly: true,
  description,
  ...(format ? { format } : {}),
});

export const schemas: Record<string, JsonSchema> = {
  ScheduleCreate: fromZod(ScheduleSpecSchema),
  SchedulePatch: fromZod(SchedulePatchSchema),
  Schedule: {
    allOf: [
      { $ref: '#/components/schemas/ScheduleCreate' },
      {
        type: 'object',
        properties: {
          createdAt: readOnlyString('Creation time; no occurrence at or before it ever runs.', 'date-time'),
          updatedAt: readOnlyString('Last change.', 'date-time'),
          lastEvaluated: readOnlyString(
            'Every occurrence up to this instant has been decided (started, skipped, missed or failed).',
            'date-time',
          ),
          lastRun: {
            type: 'object',
            readOnly: true,
            properties: { runId: { type: 'string' }, occurrence: { type: 'string', format: 'date-time' } },
          },
          nextFireTimes: {
            type: 'array',
            readOnly: true,
            description: 'The next five occurrences (empty while disabled).',
            items: { type: 'string', format: 'date-time' },
          },
        },
      },
    ],
  },
  TriggerDecision: {
    type: 'object',
    required: ['id', 'source', 'at', 'decision'],
    properties: {
      id: { type: 'string' },
      source: { type: 'string', description: '`schedule:<name>` or `queue:sluice-runs`.' },
      at: { type: 'string', format: 'date-time', description: 'When the decision was made.' },
      decision: {
        enum: [
          'starting',
          'started',
          'skipped',
          'canceledPreviousAndStarted',
          'missed',
          'failed',
          'rejected',
          'awaitingRun',
          'delivered',
          'notDelivered',
        ],
      },
      occurrence: {
        type: 'string',
        format: 'date-time',
        description: 'For missed: the first missed occurrence.',
      },
      until: { type: 'string', format: 'date-time', description: 'Missed: the last missed occurrence.' },
      count: { type: 'integer', description: 'Missed: how many (a lower bound when countIsLowerBound).' },
      countIsLowerBound: { type: 'boolean' },
      late: { type: 'boolean', description: 'Started after its grace period (catch-up).' },
      idempotencyKey: { type: 'string' },
      runId: { type: 'string' },
      canceledRunId: { type: 'string' },
      reason: { type: 'string' },
      messageId: { type: 'string' },
      message: { type: 'string', description: 'Rejected: the message text (first 4 KiB).' },
      problems: {
        type: 'array',
        items: {
          type: 'object',
          properties: { pointer: { type: 'string' }, message: { type: 'string' } },
        },
      },
      outputs: { type: 'object', description: 'Deliveries: step.output → {dataset}.' },
      delivered: {
        type: 'object',
        description: 'Deliveries: step.output → {dataset, version, hash, created}.',
      },
    },
  },
};

const one = { description: 'The schedule', schema: { $ref: '#/components/schemas/Schedule' } };
const history = pageOf({ $ref: '#/components/schemas/TriggerDecision' });

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/schedules',
    operationId: 'createSchedule',
    summary: 'Create a schedule (it never fires at creation; only occurrences after it run)',
    tags: TAGS,
    requestBody: {
      required: true,
      content: { 'application/json': { $ref: '#/components/schemas/ScheduleCreate' } },
    },
    responses: { '201': one, ...problems(400, 409) },
  },
  {
    method: 'get',
    path: '/api/schedules',
    operationId: 'listSchedules',
    summary: 'Schedules (paged)',
    tags: TAGS,
    parameters: pagingParams,
    responses: {
      '200': { description: 'A page', schema: pageOf({ $ref: '#/components/schemas/Schedule' }) },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/schedules/{name}',
    operationId: 'getSchedule',
    summary: 'A schedule with its next five fire times (ETag header for If-Match)',
    tags: TAGS,
    parameters: [name],
    responses: { '200': one, ...problems(404) },
  },
  {
    method: 'patch',
    path: '/api/schedules/{name}',
    operationId: 'updateSchedule',
    summary: 'Change a schedule; a new rule or re-enabling starts from now (no catch-up of the gap)',
    tags: TAGS,
    parameters: [
      name,
      { name: 'If-Match', in: 'header', description: 'ETag from GET.', schema: { type: 'string' } },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { $ref: '#/components/schemas/SchedulePatch' } },
    },
    responses: { '200': one, ...problems(400, 404, 412) },
  },
  {
    method: 'delete',
    path: '/api/schedules/{name}',
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule and its history (the runs it started stay)',
    tags: TAGS,
    parameters: [name],
    responses: { '204': { description: 'Deleted' }, ...problems(404) },
  },
  {
    method: 'get',
    path: '/api/schedules/{name}/history',
    operationId: 'getScheduleHistory',
    summary: 'Decisions per occurrence (started, skipped, missed, failed), newest first',
    tags: TAGS,
    parameters: [
      name,
      ...pagingParams,
      queryParam('decision', 'Only this decision.', {
        enum: ['started', 'skipped', 'canceledPreviousAndStarted', 'missed', 'failed', 'starting'],
      }),
    ],
    responses: { '200': { description: 'A page of decisions', schema: history }, ...problems(400, 404) },
  },
  {
    method: 'post',
    path: '/api/schedules/{name}/evaluate',
    operationId: 'evaluateSchedule',
    summary: 'Evaluate a schedule now: start what is due (safe alongside the timer)',
    tags: TAGS,
    parameters: [name],
    responses: { '200': { description: 'What was decided', schema: { type: 'object' } }, ...problems(404) },
  },
];
