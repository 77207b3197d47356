/** What an engine reports as runs progress: the CLI's live view and tests listen to these. */
import type { SerializedError } from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import type { RunStatus, StepStatus } from '../core/states.js';
import type { StepKind, WaitInfo } from '../store/contract/types.js';

export type EngineEvent =
  | {
      type: 'run';
      runId: string;
      definition: string;
      status: RunStatus;
      at: number;
      /** For a parked workflow (`waiting`): what it waits for. */
      waitingFor?: WaitInfo;
    }
  | {
      type: 'step';
      runId: string;
      step: string;
      node: string;
      status: StepStatus;
      attempt: number;
      at: number;
      error?: SerializedError;
      /** For a retry: when the next attempt may start. */
      retryAt?: number;
      /** For a map step that expanded: how many items it has. */
      items?: number;
      /** In a workflow run: what the journal entry is (step, sleep, event, child). */
      kind?: StepKind;
    }
  | {
      type: 'log';
      runId: string;
      step: string | null;
      level: LogLevel;
      message: string;
      at: number;
    };

export type EngineListener = (event: EngineEvent) => void;

/** Where tests can pause, delay or throw (crash tests kill the process here). */
export type FaultPoint = 'afterClaim' | 'beforeAttempt' | 'beforeCommit' | 'afterCommit';

export interface FaultInfo {
  point: FaultPoint;
  runId: string;
  step: string;
  attempt: number;
}

export type FaultHook = (info: FaultInfo) => void | Promise<void>;
