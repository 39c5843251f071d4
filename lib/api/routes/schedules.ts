import { pageOf, pagingParams, pathParam, problems, type JsonSchema, type RouteSpec } from '../catalogue';

/**
 * Routes of issue 6 (TRIGGERS: functions/schedules.ts), pre-written from the issue text. TRIGGERS:
 * adjust these to what you build (or replace `Schedule` with your zod schema's z.toJSONSchema).
 */
const TAGS = ['schedules'];
const name = pathParam('name', 'Schedule name.');

export const schemas: Record<string, JsonSchema> = {
  Schedule: {
    type: 'object',
    required: ['name', 'pipeline'],
    properties: {
      name: { type: 'string' },
      pipeline: { type: 'string' },
      version: { type: 'integer' },
      parameters: { type: 'object' },
      inputs: { type: 'object', additionalProperties: { type: 'string' } },
      cron: { type: 'string', description: '5 or 6 fields.' },
      recurrence: {
        type: 'object',
        properties: {
          frequency: { enum: ['minute', 'hour', 'day', 'week', 'month'] },
          interval: { type: 'integer' },
          startTime: { type: 'string' },
          timeZone: { type: 'string' },
          hours: { type: 'array', items: { type: 'integer' } },
          minutes: { type: 'array', items: { type: 'integer' } },
          weekDays: { type: 'array', items: { type: 'string' } },
        },
      },
      timeZone: { type: 'string', description: 'IANA time zone.' },
      enabled: { type: 'boolean' },
      overlap: { enum: ['skip', 'allow', 'cancelPrevious'] },
      catchUp: { enum: ['none', 'latest', 'all'] },
      nextFireTimes: { type: 'array', items: { type: 'string', format: 'date-time' }, readOnly: true },
    },
  },
};

const body = { required: true, content: { 'application/json': { $ref: '#/components/schemas/Schedule' } } };
const one = { description: 'The schedule', schema: { $ref: '#/components/schemas/Schedule' } };

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/schedules',
    operationId: 'createSchedule',
    summary: 'Create a schedule',
    tags: TAGS,
    requestBody: body,
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
    summary: 'A schedule with its next five fire times',
    tags: TAGS,
    parameters: [name],
    responses: { '200': one, ...problems(404) },
  },
  {
    method: 'patch',
    path: '/api/schedules/{name}',
    operationId: 'updateSchedule',
    summary: 'Change a schedule',
    tags: TAGS,
    parameters: [name],
    requestBody: { required: true, content: { 'application/json': { type: 'object' } } },
    responses: { '200': one, ...problems(400, 404) },
  },
  {
    method: 'delete',
    path: '/api/schedules/{name}',
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule',
    tags: TAGS,
    parameters: [name],
    responses: { '200': { description: 'Deleted', schema: { type: 'object' } }, ...problems(404) },
  },
  {
    method: 'get',
    path: '/api/schedules/{name}/history',
    operationId: 'getScheduleHistory',
    summary: 'Occurrences of a schedule and the runs they started',
    tags: TAGS,
    parameters: [name],
    responses: { '200': { description: 'History', schema: { type: 'object' } }, ...problems(404) },
  },
  {
    method: 'post',
    path: '/api/schedules/{name}/evaluate',
    operationId: 'evaluateSchedule',
    summary: 'Evaluate a schedule now (fires what is due)',
    tags: TAGS,
    parameters: [name],
    responses: { '200': { description: 'What fired', schema: { type: 'object' } }, ...problems(404) },
  },
];
