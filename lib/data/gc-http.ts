/** `POST /api/gc[?dryRun=true]`: one artifact GC, answered with its report (registered in functions/artifact-gc.ts). */
import { invalid } from '../errors/problem';
import { httpHandler, json } from '../http/handler';
import { asProblems } from './errors';
import { collectGarbage } from './gc';

const TRUE = ['true', '1', ''];
const FALSE = ['false', '0'];

export const gcHandler = httpHandler(async (req, ctx) => {
  const raw = req.query.get('dryRun');
  const value = raw?.trim().toLowerCase();
  if (value !== undefined && !TRUE.includes(value) && !FALSE.includes(value))
    throw invalid([
      {
        pointer: '/dryRun',
        message: `dryRun must be true or false; got "${raw!.slice(0, 40)}".`,
      },
    ]);
  const dryRun = value !== undefined && TRUE.includes(value);
  const report = await asProblems(() => collectGarbage({ dryRun, log: (m) => ctx.log(m) }));
  return json(200, report);
});
