/** HTTP handlers for /api/environments…; registered in functions/environments.ts. */
import { invalid } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import {
  getEnvironment,
  getEnvironmentVersion,
  listEnvironments,
  parsePublish,
  publishEnvironment,
} from './store';

/** POST /api/environments/{name} `{spec, description?}`: 201 a new version, 200 the same as the latest. */
export const environmentPublishHandler = httpHandler(async (req) => {
  const input = parsePublish(req.params.name ?? '', await readJson(req));
  const v = await publishEnvironment(input);
  return json(v.created ? 201 : 200, v);
});

/** GET /api/environments */
export const environmentsListHandler = httpHandler(async () =>
  json(200, { items: await listEnvironments() }),
);

/** GET /api/environments/{name} */
export const environmentGetHandler = httpHandler(async (req) =>
  json(200, await getEnvironment(req.params.name ?? '')),
);

/** GET /api/environments/{name}/versions/{version} (a number or `latest`). */
export const environmentVersionHandler = httpHandler(async (req) => {
  const raw = req.params.version ?? '';
  if (raw !== 'latest' && !/^[1-9][0-9]{0,8}$/.test(raw))
    throw invalid([
      { pointer: '/version', message: `"${raw}" is not a version: use a positive integer or "latest".` },
    ]);
  return json(
    200,
    await getEnvironmentVersion(req.params.name ?? '', raw === 'latest' ? 'latest' : Number(raw)),
  );
});
