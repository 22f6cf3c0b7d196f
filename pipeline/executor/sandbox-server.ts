import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import type { Readable, Writable } from "node:stream";
import { checkedOutcome, runnerMessageSchema, runnerOutcomeSchema, type Outcome } from "../../schemas/outcome.js";
import { SandboxError } from "../common/errors.js";
import type { Grid } from "../../schemas/grid.js";
import { BACKSTOP, type SandboxLimits } from "../../schemas/sandbox-limits.js";

/** Far above any honest line (a 30x30 grid is ~2.7 KB): a longer one is a broken runner, not data. */
export const MAX_RESULT_LINE = 1 << 20;
/**
 * A runner beats every second while a program runs, and decides every verdict by its children's
 * clocks. Silent this long with a program in flight, it has hung (or its machine has stopped):
 * it is replaced. Never a per-program deadline: the program's time is the runner's to judge.
 */
export const HEARTBEAT_TIMEOUT_MS = 60_000;

export interface Hello {
  runner: number;
  python: string;
  numpy: string;
  layers: Record<string, unknown>;
  seed?: number;
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

/** How a runner is reached: a local process, or a container attached over the Docker API. */
export interface RunnerIo {
  stdin: Writable;
  results: Readable;
  stderr: Readable;
  /** Called once when the runner is gone, with a description of how it ended. */
  onExit(listener: (how: string) => void): void;
  onStartError?(listener: (error: Error) => void): void;
  kill(): void;
  /** The host pid of the process started (bwrap's, when the runner runs inside it). */
  pid?: number;
}

/** The runner's arguments; `path` is its import path beyond the standard library (see find-python). */
export const runnerArgs = (limits: SandboxLimits, seed: number, path: string[]) => [
  "--timeout",
  String(limits.timeoutSeconds),
  "--memory",
  String(limits.memoryBytes),
  "--seed",
  String(seed),
  "--backstop",
  `${BACKSTOP.factor},${BACKSTOP.seconds}`,
  "--path",
  path.join(":"),
];

/** The runner as a child process; results come on its fd 3. */
export function processRunnerIo(params: { runner: RunnerCommand }): RunnerIo {
  const child = spawn(params.runner.command, params.runner.args, {
    stdio: ["pipe", "ignore", "pipe", "pipe"],
    env: params.runner.env,
  });
  return {
    stdin: child.stdin!,
    results: child.stdio[3] as Readable,
    stderr: child.stderr!,
    onExit: (listener) => child.on("exit", (code, signal) => listener(signal ?? `code ${code}`)),
    onStartError: (listener) => child.on("error", (error) => listener(new SandboxError(`could not start '${params.runner.command}': ${error.message}`))),
    kill: () => child.kill("SIGKILL"),
    pid: child.pid,
  };
}

interface InFlight {
  requestId: string;
  inputs: number;
  outcomes: Map<number, Outcome>;
  resolve: (outcomes: Map<number, Outcome>) => void;
  reject: (error: Error) => void;
}

/** One sandbox server: a runner (docker/runner.py) in a process or a container, executing one program at a time. */
export class SandboxServer {
  private readonly io: RunnerIo;
  private inFlight: InFlight | undefined;
  private stderrTail = "";
  private sequence = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private exited: string | undefined;
  private readonly exitListeners: (() => void)[] = [];
  readonly hello: Promise<Hello>;

  constructor(params: { io: RunnerIo; label: string }) {
    this.io = params.io;
    this.io.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    this.io.stdin.on("error", () => undefined); // a dead runner is reported by onExit
    let helloResolve: (hello: Hello) => void;
    let helloReject: (error: Error) => void;
    this.hello = new Promise((resolve, reject) => {
      helloResolve = resolve;
      helloReject = reject;
    });
    this.hello.catch(() => undefined);
    const decoder = new StringDecoder("utf8");
    let partial = "";
    this.io.results.on("data", (chunk: Buffer) => {
      this.heartbeat?.refresh();
      partial += decoder.write(chunk);
      for (let newline = partial.indexOf("\n"); newline !== -1; newline = partial.indexOf("\n")) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        this.onLine(line, helloResolve);
      }
      if (partial.length > MAX_RESULT_LINE) {
        partial = "";
        this.fail(`the runner sent a line longer than ${MAX_RESULT_LINE} bytes`);
      }
    });
    this.io.onStartError?.((error) => helloReject(new SandboxError(`${params.label}: ${error.message}`)));
    this.io.onExit((how) => {
      if (this.exited) return;
      this.exited = `${params.label} exited (${how})${this.stderrTail ? `: ${this.stderrTail.trim().split("\n").slice(-3).join(" | ")}` : ""}`;
      helloReject(new SandboxError(`the sandbox runner did not start: ${this.exited}`));
      const flight = this.inFlight;
      this.inFlight = undefined;
      this.stopHeartbeat();
      flight?.reject(new ServerDiedError(this.exited, flight.outcomes));
      for (const listener of this.exitListeners.splice(0)) listener();
    });
  }

  static fromProcess(params: { runner: RunnerCommand; label: string }): SandboxServer {
    return new SandboxServer({ io: processRunnerIo(params), label: params.label });
  }

  get pid(): number | undefined {
    return this.io.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Runs one program on its inputs (a failure on one of the first `failFast` ends it: ExecJob); outcomes keyed by input index. */
  execute(params: { code: string; inputs: Grid[]; failFast?: number }): Promise<Map<number, Outcome>> {
    if (this.inFlight) throw new SandboxError("a fork server runs one program at a time; the pool must wait for it");
    if (!this.alive) return Promise.reject(new ServerDiedError(this.exited!, new Map()));
    const requestId = `r${++this.sequence}`;
    return new Promise((resolve, reject) => {
      this.inFlight = { requestId, inputs: params.inputs.length, outcomes: new Map(), resolve, reject };
      this.heartbeat = setTimeout(() => this.fail(`the runner was silent for ${HEARTBEAT_TIMEOUT_MS / 1000} s with a program in flight`), HEARTBEAT_TIMEOUT_MS);
      const stop = params.failFast ? { stop: params.failFast } : {};
      this.io.stdin.write(`${JSON.stringify({ id: requestId, code: params.code, inputs: params.inputs, ...stop })}\n`);
    });
  }

  private stopHeartbeat(): void {
    clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
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
    if ("beat" in message) return;
    if ("fatal" in message) return this.fail(`the runner failed: ${message.fatal}`);
    const flight = this.inFlight;
    if (!flight || message.id !== flight.requestId) return this.fail(`the runner answered request ${message.id}, which is not in flight`);
    if ("done" in message) {
      if (flight.outcomes.size !== flight.inputs)
        return this.fail(`the runner finished request ${flight.requestId} with ${flight.outcomes.size} of ${flight.inputs} outcomes`);
      this.inFlight = undefined;
      this.stopHeartbeat();
      flight.resolve(flight.outcomes);
      return;
    }
    // Exactly one answer per input, in input order, for the request in flight.
    const parsed = runnerOutcomeSchema.safeParse(message);
    if (!parsed.success || message.i !== flight.outcomes.size || message.i >= flight.inputs) {
      return this.fail(`the runner sent a malformed, repeated or out-of-order outcome for input ${message.i}`);
    }
    flight.outcomes.set(message.i, checkedOutcome(parsed.data));
  }

  /** A protocol break means the process cannot be trusted: kill it; the pool respawns. */
  private fail(reason: string): void {
    this.stderrTail += `\n${reason}`;
    this.io.kill();
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.exitListeners.push(resolve));
    this.io.stdin.end();
    const timer = setTimeout(() => this.io.kill(), 2000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.io.kill();
  }
}
