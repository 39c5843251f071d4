/** Pipelines: the public surface for other modules (RUNS, TRIGGERS). */
export type { PipelineDefinition, PipelineSettings } from './schema';
export type { StepDefinition, StepKind } from './steps-schema';
export type { ParameterDefinition, PipelineInputDefinition } from './parameters-schema';
export type { OutputDefinition } from './step-fields';
export { PipelineDefinitionSchema } from './schema';
export { parseDuration } from './formats';
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
