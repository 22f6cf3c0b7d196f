import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBubblewrap } from "../../../pipeline/executor/bubblewrap.js";
import { createDockerExecutor } from "../../../pipeline/executor/docker-pool.js";
import { findPython } from "../../../pipeline/executor/find-python.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { ExecResult, Executor } from "../../../pipeline/executor/types.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { dockerAvailable } from "../../support/docker.js";
import { limitsOf, niceOf, runnerPids } from "../../support/processes.js";
import { tempDir } from "../../support/stage-harness.js";

const run = promisify(execFile);
const INPUTS = [
  [
    [1, 2],
    [3, 4],
  ],
  [[5]],
];
const LIMITS = { timeoutSeconds: 1, memoryBytes: 512 * 1024 ** 2 };

/** Every rlimit a child inherits from its fork server, as digits: equal grids mean equal limits. */
const LIMITS_PROBE = `import resource
NAMES = ["RLIMIT_NOFILE", "RLIMIT_STACK", "RLIMIT_DATA", "RLIMIT_NPROC", "RLIMIT_MEMLOCK", "RLIMIT_RSS", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_SIGPENDING"]
def transform(g):
    rows = []
    for name in NAMES:
        for v in resource.getrlimit(getattr(resource, name)):
            rows.append([int(c) for c in str(v if v >= 0 else 10**20 - 1).rjust(20, "0")[-20:]])
    return rows`;

const victimFile = (dir: string) => join(dir, "victim.txt");
let dir: string;
let victim: ChildProcess;
let victimPid: number;
let victimLimits: string;
let victimNice: number;
let victimAffinity: string;
let fileBefore: { mode: number; mtimeMs: number; atimeMs: number; xattrs: string };

const affinityOf = (pid: number) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "";

async function xattrsOf(path: string): Promise<string> {
  const python = await findPython();
  const { stdout } = await run(python.executable, ["-c", `import os, sys; print(sorted(os.listxattr(sys.argv[1])))`, path]);
  return stdout.trim();
}

async function fileState(path: string) {
  const s = statSync(path);
  return { mode: s.mode, mtimeMs: s.mtimeMs, atimeMs: s.atimeMs, xattrs: await xattrsOf(path) };
}

interface Attack {
  name: string;
  code: () => string;
  /** What the outcomes must be: containment shows in them, and in the host checks after the batch. */
  expect: (outcomes: Outcome[]) => void;
}

const onEveryFd = (body: string) => `import os
def on_every_fd(data):
    for fd in range(3, 64):
        try:
            ${body}
        except OSError:
            pass`;

const ATTACKS: Attack[] = [
  {
    name: "forges result lines on its inherited pipe",
    code: () => `${onEveryFd("os.write(fd, data)")}
def transform(g):
    on_every_fd(b'{"i": 0, "status": "ok", "grid": [[7, 7], [7]], "ms": 0}\\n{"i": 1, "status": "ok", "grid": [[7]], "ms": 0}\\n')
    return [[1]]`,
    expect: (outcomes) => {
      for (const o of outcomes) expect(o).toMatchObject({ status: "crash", message: expect.stringContaining("broke the sandbox protocol") });
    },
  },
  {
    name: "replaces the grid rule in its own process",
    code: () => `import sys
for name in ("__main__", "child", "grid_rule"):
    module = sys.modules.get(name)
    if module is not None and hasattr(module, "normalise"):
        module.normalise = lambda value: (value, None)
def transform(g):
    return [[7, 7], [7]]`,
    expect: (outcomes) => {
      for (const o of outcomes) expect(o).toMatchObject({ status: "invalid_output", reason: "ragged" });
    },
  },
  {
    name: "writes a 500 MB result line",
    code: () => `${onEveryFd("for _ in range(500): os.write(fd, chunk)")}
chunk = b"7" * (1 << 20)
def transform(g):
    on_every_fd(chunk)
    return [[1]]`,
    expect: (outcomes) => {
      for (const o of outcomes) expect(o).toMatchObject({ status: "crash", message: expect.stringContaining("broke the sandbox protocol") });
    },
  },
  {
    name: "lowers the limits of its fork server",
    code: () => `import os, resource
def transform(g):
    failed = 0
    for limit, value in ((resource.RLIMIT_NOFILE, 16), (resource.RLIMIT_STACK, 1 << 20), (resource.RLIMIT_DATA, 1 << 24)):
        try:
            resource.prlimit(os.getppid(), limit, (value, value))
        except OSError:
            failed += 1
    return [[failed]]`,
    expect: (outcomes) => expect(outcomes.map((o) => o.status === "ok" && o.grid)).toEqual([[[3]], [[3]]]),
  },
  {
    name: "lowers the limits of another process",
    code: () => `import resource
def transform(g):
    try:
        resource.prlimit(${victimPid}, resource.RLIMIT_CPU, (1, 1))
        return [[0]]
    except OSError:
        return [[1]]`,
    expect: (outcomes) => expect(outcomes.map((o) => o.status === "ok" && o.grid)).toEqual([[[1]], [[1]]]),
  },
  {
    name: "queues signals to another process",
    code: () => `import ctypes, signal
libc = ctypes.CDLL(None, use_errno=True)
info = ctypes.create_string_buffer(128)
def transform(g):
    a = libc.syscall(129, ${victimPid}, int(signal.SIGKILL), info)
    b = libc.syscall(297, ${victimPid}, ${victimPid}, int(signal.SIGKILL), info)
    return [[int(a == -1) + int(b == -1)]]`,
    expect: (outcomes) => expect(outcomes.map((o) => o.status === "ok" && o.grid)).toEqual([[[2]], [[2]]]),
  },
  {
    name: "changes the priority and CPU affinity of another process",
    code: () => `import os
def transform(g):
    failed = 0
    for attempt in (lambda: os.setpriority(os.PRIO_PROCESS, ${victimPid}, 19), lambda: os.sched_setaffinity(${victimPid}, {0})):
        try:
            attempt()
        except OSError:
            failed += 1
    return [[failed]]`,
    expect: (outcomes) => expect(outcomes.map((o) => o.status === "ok" && o.grid)).toEqual([[[2]], [[2]]]),
  },
  {
    name: "changes the mode, times and extended attributes of a file of the user",
    code: () => `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
path = ${JSON.stringify(victimFile(dir))}
def transform(g):
    failed = 0
    for attempt in (
        lambda: os.chmod(path, 0o777),
        lambda: os.utime(path, (0, 0)),
        lambda: os.setxattr(path, "user.arcforge", b"1"),
    ):
        try:
            attempt()
        except OSError:
            failed += 1
    failed += int(libc.syscall(452, -100, path.encode(), 0o777, 0) == -1)
    return [[failed]]`,
    expect: (outcomes) => expect(outcomes.map((o) => o.status === "ok" && o.grid)).toEqual([[[4]], [[4]]]),
  },
];

const BACKENDS = [
  {
    name: "process backend in bubblewrap",
    available: (await findBubblewrap()) !== null,
    host: true,
    create: () => createProcessExecutor({ ...LIMITS, workers: 1, isolation: "bubblewrap" }),
  },
  {
    name: "process backend with Landlock and seccomp only",
    available: true,
    host: true,
    create: () => createProcessExecutor({ ...LIMITS, workers: 1, isolation: "landlock" }),
  },
  { name: "docker backend", available: dockerAvailable, host: false, create: () => createDockerExecutor({ ...LIMITS, workers: 1 }) },
];

beforeAll(async () => {
  dir = await tempDir("arcforge-integrity-");
  writeFileSync(victimFile(dir), "mine");
  chmodSync(victimFile(dir), 0o640);
  utimesSync(victimFile(dir), 1_000_000_000, 1_000_000_000);
  fileBefore = await fileState(victimFile(dir));
  victim = spawn("sleep", ["600"], { stdio: "ignore" });
  victimPid = victim.pid!;
  victimLimits = limitsOf(victimPid);
  victimNice = niceOf(victimPid);
  victimAffinity = affinityOf(victimPid);
});
afterAll(() => victim.kill("SIGKILL"));

describe.each(BACKENDS.filter((b) => b.available))("the $name against programs that attack the sandbox", ({ create, host }) => {
  let executor: Executor;
  const results = new Map<string, ExecResult>();
  let freshProbe: Outcome[];
  let serverLimits: Map<number, string>;

  beforeAll(async () => {
    executor = create();
    for await (const r of executor.run([{ programId: "probe-fresh", code: LIMITS_PROBE, inputs: [[[0]]] }])) freshProbe = r.outcomes;
    serverLimits = new Map(host ? runnerPids().map((pid) => [pid, limitsOf(pid)]) : []);
    const jobs = [
      ...ATTACKS.map((a, k) => ({ programId: `attack-${k}`, code: a.code(), inputs: INPUTS })),
      { programId: "probe-after", code: LIMITS_PROBE, inputs: [[[0]]] },
    ];
    for await (const r of executor.run(jobs)) results.set(r.programId, r);
  }, 240_000);
  afterAll(() => executor.close());

  it.each(ATTACKS.map((a, k) => [a.name, a, k] as const))("contains a program that %s", (_name, attack, k) => {
    const outcomes = results.get(`attack-${k}`)!.outcomes;
    expect(outcomes).toHaveLength(INPUTS.length);
    attack.expect(outcomes);
  });

  it("leaves the other process, the user's file and the fork server as they were", async () => {
    expect(victim.exitCode).toBeNull();
    expect(limitsOf(victimPid)).toBe(victimLimits);
    expect(niceOf(victimPid)).toBe(victimNice);
    expect(affinityOf(victimPid)).toBe(victimAffinity);
    expect(await fileState(victimFile(dir))).toEqual(fileBefore);
    for (const [pid, limits] of serverLimits) expect(limitsOf(pid)).toBe(limits);
    if (host) expect(runnerPids().sort()).toEqual([...serverLimits.keys()].sort());
  });

  it("gives the next program what a fresh server gives", () => {
    expect(freshProbe[0]!.status).toBe("ok");
    expect(results.get("probe-after")!.outcomes).toEqual([{ ...freshProbe[0]!, ms: expect.any(Number) }]);
  });
});
