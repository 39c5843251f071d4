/**
 * HTTP handlers for /api/compute…: compute targets as resources (PUT/GET/DELETE) and a live view per
 * target (agents, queue depth, Slurm jobs). Registered in functions/compute.ts.
 */
import type { HttpRequest } from '@azure/functions';
import { invalid, notFound, ProblemError } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import { targetLiveView } from './live';
import {
  bodyOfTarget,
  isValidTargetName,
  TargetBodySchema,
  targetBodyProblems,
  targetFromBody,
  type ComputeTarget,
} from './targets';
import { deleteComputeTarget, getComputeTarget, listComputeTargets, putComputeTarget } from './targets-store';

function targetName(req: HttpRequest): string {
  const name = req.params.name ?? '';
  if (!isValidTargetName(name))
    throw invalid([
      {
        pointer: '/name',
        message: `"${name}" is not a compute target name: a letter or "_", then up to 63 letters, digits, "_" or "-" (as in compute:).`,
      },
    ]);
  // `GET /api/compute/targets` and `/agents` are the dashboard's views: literal routes win over {name}.
  if (RESERVED_NAMES.has(name))
    throw invalid([
      {
        pointer: '/name',
        message: `"${name}" is reserved (GET /api/compute/${name} lists ${name} of every target); choose another name.`,
      },
    ]);
  return name;
}

const RESERVED_NAMES = new Set(['targets', 'agents']);

function view(t: ComputeTarget): Record<string, unknown> {
  return { name: t.name, ...bodyOfTarget(t), ...(t.updatedAt ? { updatedAt: t.updatedAt } : {}) };
}

async function existing(name: string): Promise<ComputeTarget> {
  const t = await getComputeTarget(name);
  if (!t) throw notFound(`There is no compute target "${name}"; list them with GET /api/compute.`);
  return t;
}

export const computeCollectionHandler = httpHandler(async () => {
  const targets = await listComputeTargets();
  return json(200, { items: [...targets.values()].map(view) });
});

export const computeTargetHandler = httpHandler(async (req) => {
  const name = targetName(req);
  switch (req.method) {
    case 'GET':
      return json(200, view(await existing(name)));
    case 'PUT': {
      const body = await readJson(req);
      const problems = targetBodyProblems(body);
      if (problems.length)
        throw invalid(
          problems,
          'A compute target is {"backend": "agent", "settings": {"pool": P}} or {"backend": "slurm", "settings": {"partition": …}}, with optional environment, resources (limits) and defaults.',
        );
      const t = targetFromBody(name, TargetBodySchema.parse(body));
      const { created, target } = await putComputeTarget(t);
      return json(created ? 201 : 200, view(target));
    }
    case 'DELETE':
      if (!(await deleteComputeTarget(name)))
        throw notFound(`There is no compute target "${name}"; list them with GET /api/compute.`);
      return { status: 204 };
    default:
      throw new ProblemError(
        'method-not-allowed',
        `${req.method} is not supported here; use GET, PUT or DELETE.`,
      );
  }
});

export const computeLiveHandler = httpHandler(async (req) => {
  const t = await existing(targetName(req));
  return json(200, await targetLiveView(t));
});
