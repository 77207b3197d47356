export { Engine, type EngineOptions, type EngineState, type SubmitOptions } from './engine.js';
export { Registry, type Definition } from './registry.js';
export type { EngineEvent, EngineListener, FaultHook, FaultInfo, FaultPoint } from './events.js';
