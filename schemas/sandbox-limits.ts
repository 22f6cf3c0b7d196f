export interface SandboxLimits {
  /** CPU seconds per input before a timeout (a child off the CPU is stopped after BACKSTOP). */
  timeoutSeconds: number;
  /** Address space a program may add on top of the runner's own, in bytes. */
  memoryBytes: number;
}

/**
 * When the runner stops a child that is off the CPU: after timeout x factor + seconds of sleep
 * (or, without schedstat, of wall-clock time). Sent to the runner, never re-derived there.
 */
export const BACKSTOP = { factor: 2, seconds: 0.5 } as const;

export const DEFAULT_LIMITS: SandboxLimits = { timeoutSeconds: 1, memoryBytes: 1 << 30 };
