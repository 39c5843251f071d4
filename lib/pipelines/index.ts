/** Pipelines: the public surface for other modules (RUNS, TRIGGERS). */
export type {
  PipelineDefinition,
  StepDefinition,
  StepKind,
  ParameterDefinition,
  PipelineInputDefinition,
  OutputDefinition,
  PipelineSettings,
} from './schema';
export { parseDuration, PipelineDefinitionSchema } from './schema';
export {
  stepDependencies,
  topologicalOrder,
  stepInputBindings,
  stepOutputs,
  stepTemplates,
  parseBinding,
  scanPlaceholders,
  substitute,
} from './graph';
export type { StepDependencies, DataDependency, Binding, Placeholder } from './graph';
export { validateDefinition, validateDefinitionText, assertValidDefinition } from './validate';
export { getPipelineVersion, publishPipeline, type ResolvedPipelineVersion } from './store';
