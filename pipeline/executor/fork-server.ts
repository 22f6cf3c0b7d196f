import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { runnerMessageSchema, runnerOutcomeSchema, type Outcome } from "../../schemas/outcome.js";
import { SandboxError } from "../errors.js";
import type { Grid } from "../../schemas/grid.js";
import type { SandboxLimits } from "./types.js";

export interface Hello {
  runner: number;
  python: string;
  numpy: string;
  layers: Record<string, unknown>;
}

/** The server died with a program in flight; `outcomes` holds what had come back before. */
export class ServerDiedError extends SandboxError {
  constructor(
    message: string,
    readonly outcomes: Map<number, Outcome>,
  ) {
    super(message);
  }
}

export interface RunnerCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

interface InFlight {
  requestId: string;
  outcomes: Map<number, Outcome>;
  resolve: (outcomes: Map<number, Outcome>) => void;
  reject: (error: Error) => void;
}

/** One runner process (docker/runner.py) that executes one program at a time. */
export class ForkServer {
  private child: ChildProcess;
  private inFlight: InFlight | undefined;
  private stderrTail = "";
  private sequence = 0;
  private exited: string | undefined;
  readonly hello: Promise<Hello>;

  constructor(params: { runner: RunnerCommand; limits: SandboxLimits; label: string }) {
    const limitArgs = ["--timeout", String(params.limits.timeoutSeconds), "--memory", String(params.limits.memoryBytes)];
    this.child = spawn(params.runner.command, [...params.runner.args, ...limitArgs], {
      stdio: ["pipe", "ignore", "pipe", "pipe"],
      env: params.runner.env,
    });
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    this.child.stdin!.on("error", () => undefined); // a dead server is reported by 'exit'
    const lines = createInterface({ input: this.child.stdio[3] as Readable });
    let helloResolve: (hello: Hello) => void;
    let helloReject: (error: Error) => void;
    this.hello = new Promise((resolve, reject) => {
      helloResolve = resolve;
      helloReject = reject;
    });
    this.hello.catch(() => undefined);
    lines.on("line", (line) => this.onLine(line, helloResolve));
    this.child.on("error", (error) => helloReject(new SandboxError(`${params.label}: could not start '${params.runner.command}': ${error.message}`)));
    this.child.on("exit", (code, signal) => {
      this.exited = `${params.label} exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim().split("\n").slice(-3).join(" | ")}` : ""}`;
      helloReject(new SandboxError(`the sandbox runner did not start: ${this.exited}`));
      const flight = this.inFlight;
      this.inFlight = undefined;
      flight?.reject(new ServerDiedError(this.exited, flight.outcomes));
    });
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Runs one program on its inputs; outcomes keyed by input index. */
  execute(params: { code: string; inputs: Grid[] }): Promise<Map<number, Outcome>> {
    if (this.inFlight) throw new SandboxError("a fork server runs one program at a time; the pool must wait for it");
    if (!this.alive) return Promise.reject(new ServerDiedError(this.exited!, new Map()));
    const requestId = `r${++this.sequence}`;
    return new Promise((resolve, reject) => {
      this.inFlight = { requestId, outcomes: new Map(), resolve, reject };
      this.child.stdin!.write(JSON.stringify({ id: requestId, code: params.code, inputs: params.inputs }) + "\n");
    });
  }

  private onLine(line: string, helloResolve: (hello: Hello) => void): void {
    let message: ReturnType<typeof runnerMessageSchema.parse>;
    try {
      message = runnerMessageSchema.parse(JSON.parse(line));
    } catch (error) {
      this.fail(`the runner broke the protocol with the line ${JSON.stringify(line.slice(0, 200))}: ${(error as Error).message}`);
      return;
    }
    if ("hello" in message) return helloResolve(message.hello as Hello);
    if ("fatal" in message) return this.fail(`the runner failed: ${message.fatal}`);
    const flight = this.inFlight;
    if (!flight || message.id !== flight.requestId) return this.fail(`the runner answered request ${message.id}, which is not in flight`);
    if ("done" in message) {
      this.inFlight = undefined;
      flight.resolve(flight.outcomes);
      return;
    }
    const parsed = runnerOutcomeSchema.safeParse(message);
    if (!parsed.success || flight.outcomes.has(message.i)) {
      return this.fail(`the runner sent a malformed or repeated outcome for input ${message.i}`);
    }
    flight.outcomes.set(message.i, parsed.data as Outcome);
  }

  /** A protocol break means the process cannot be trusted: kill it; the pool respawns. */
  private fail(reason: string): void {
    this.stderrTail += `\n${reason}`;
    this.child.kill("SIGKILL");
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}
