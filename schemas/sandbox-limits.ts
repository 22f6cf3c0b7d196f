export interface SandboxLimits {
  /** CPU seconds per input before a soft timeout (a wall-clock hard kill follows at 2x + 0.5 s). */
  timeoutSeconds: number;
  /** Address space a program may add on top of the runner's own, in bytes. */
  memoryBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { timeoutSeconds: 1, memoryBytes: 1 << 30 };
