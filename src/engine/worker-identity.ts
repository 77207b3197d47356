/** Who this worker is, and whether another worker's process is still alive. */
import { hostname } from 'node:os';
import type { WorkerRecord } from '../store/contract/types.js';

export function thisHost(): string {
  return hostname();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A worker is dead when its heartbeat is older than `staleMs`, or it ran on this host and its
 * process is gone (then there is no need to wait for its leases to expire).
 */
export function isWorkerDead(worker: WorkerRecord, now: number, staleMs: number): boolean {
  if (now - worker.heartbeatAt > staleMs) return true;
  return worker.host === thisHost() && worker.pid !== process.pid && !processAlive(worker.pid);
}
