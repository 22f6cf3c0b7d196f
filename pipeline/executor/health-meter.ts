import { OUTCOME_STATUSES, type OutcomeStatus } from "../../schemas/outcome.js";
import type { ExecResult, ExecutorEvent } from "./types.js";

/** Counts outcomes and emits a health event every `every` programs. */
export class HealthMeter {
  private programs = 0;
  private executions = 0;
  private totalMs = 0;
  private counts = Object.fromEntries(OUTCOME_STATUSES.map((s) => [s, 0])) as Record<OutcomeStatus, number>;

  constructor(private readonly params: { every: number; onEvent?: (event: ExecutorEvent) => void }) {}

  record(result: ExecResult, ms: number): void {
    this.programs++;
    this.totalMs += ms;
    for (const outcome of result.outcomes) {
      if (outcome.status === "skipped") continue;
      this.executions++;
      this.counts[outcome.status]++;
    }
    if (this.params.onEvent && this.params.every > 0 && this.programs % this.params.every === 0) this.params.onEvent(this.snapshot());
  }

  snapshot(): Extract<ExecutorEvent, { type: "health" }> {
    const rates = Object.fromEntries(OUTCOME_STATUSES.map((s) => [s, this.executions ? this.counts[s] / this.executions : 0])) as Record<OutcomeStatus, number>;
    return { type: "health", programs: this.programs, executions: this.executions, rates, meanMsPerProgram: this.programs ? this.totalMs / this.programs : 0 };
  }
}
