import * as df from 'durable-functions';
import { abortRun, advance, poll, type AdvanceInput, type PollInput } from '../lib/runs/engine';
import {
  ABORT_ACTIVITY,
  ADVANCE_ACTIVITY,
  POLL_ACTIVITY,
  RUN_ORCHESTRATION,
  runOrchestrator,
} from '../lib/runs/orchestrator';
import { runSettings } from '../lib/runs/run-settings';

// Parsed once, here at load: a bad value stops the host's start with a message naming the setting.
runSettings();

df.app.orchestration(RUN_ORCHESTRATION, runOrchestrator);
df.app.activity(ADVANCE_ACTIVITY, {
  // The binding lets a step's single-flight holder tell the runs following it how it ended.
  extraInputs: [df.input.durableClient()],
  handler: (input: AdvanceInput, ctx) =>
    advance(
      input,
      (m) => ctx.warn(m),
      (instanceId, eventName, data) => df.getClient(ctx).raiseEvent(instanceId, eventName, data),
    ),
});
df.app.activity(POLL_ACTIVITY, { handler: (input: PollInput) => poll(input) });
df.app.activity(ABORT_ACTIVITY, { handler: (input: { runId: string; message: string }) => abortRun(input) });
