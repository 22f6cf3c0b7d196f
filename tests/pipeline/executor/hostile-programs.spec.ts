import { once } from "node:events";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerExecutor } from "../../../pipeline/executor/docker-pool.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import { arcforgeContainers, dockerAvailable, waitFor } from "../../support/docker.js";
import type { ExecResult, Executor } from "../../../pipeline/executor/types.js";
import type { OutcomeStatus } from "../../../schemas/outcome.js";
import { tempDir } from "../../support/stage-harness.js";

const INPUTS = [
  [
    [1, 2],
    [3, 4],
  ],
  [[5]],
];
const CANARY = "import numpy as np\ndef transform(grid):\n    return np.rot90(np.array(grid)).tolist()";
const CANARY_OUTPUTS = [
  [
    [2, 4],
    [1, 3],
  ],
  [[5]],
];

let dir: string;
let secretPath: string;
let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  dir = await tempDir("arcforge-hostile-");
  secretPath = join(dir, "secret.txt");
  await writeFile(secretPath, "TOP-SECRET-7f3a");
  server = createServer((socket) => {
    connections++;
    socket.end("hello");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

interface Hostile {
  name: string;
  code: () => string;
  expect: OutcomeStatus;
  /** What must not have happened on the host afterwards. */
  hostCheck?: () => void;
}

const hostile: Hostile[] = [
  {
    name: "TCP connect to a loopback listener",
    code: () => `import socket\ndef transform(g):\n    s = socket.create_connection(("127.0.0.1", ${port}), timeout=0.5)\n    return [[len(s.recv(10))]]`,
    expect: "error",
    hostCheck: () => expect(connections).toBe(0),
  },
  { name: "reading a secret file", code: () => `def transform(g):\n    return [[int(len(open(${JSON.stringify(secretPath)}).read()) > 0)]]`, expect: "error" },
  {
    name: "writing a file",
    code: () => `def transform(g):\n    open(${JSON.stringify(join(dir, "written.txt"))}, "w").write("x")\n    return g`,
    expect: "error",
    hostCheck: () => expect(existsSync(join(dir, "written.txt"))).toBe(false),
  },
  {
    name: "os.system",
    code: () => `import os\ndef transform(g):\n    os.system("touch ${join(dir, "system.txt")}")\n    return g`,
    expect: "ok",
    hostCheck: () => expect(existsSync(join(dir, "system.txt"))).toBe(false),
  },
  {
    name: "subprocess",
    code: () => `import subprocess\ndef transform(g):\n    subprocess.run(["touch", ${JSON.stringify(join(dir, "subprocess.txt"))}])\n    return g`,
    expect: "error",
    hostCheck: () => expect(existsSync(join(dir, "subprocess.txt"))).toBe(false),
  },
  { name: "fork bomb", code: () => "import os\ndef transform(g):\n    while True:\n        os.fork()", expect: "error" },
  {
    name: "2 GiB allocation",
    code: () => "import numpy as np\ndef transform(g):\n    a = np.ones(2 * 1024**3, dtype=np.uint8)\n    return g",
    expect: "memory",
  },
  {
    name: "gradual memory growth",
    code: () => "import numpy as np\ndef transform(g):\n    hoard = []\n    while True:\n        hoard.append(np.empty(8 * 1024**2, dtype=np.uint8))",
    expect: "memory",
  },
  { name: "infinite loop", code: () => "def transform(g):\n    while True:\n        pass", expect: "timeout" },
  {
    name: "infinite loop with bare except",
    code: () => "def transform(g):\n    while True:\n        try:\n            while True:\n                pass\n        except:\n            pass",
    expect: "timeout",
  },
  { name: "time.sleep", code: () => "import time\ndef transform(g):\n    time.sleep(60)\n    return g", expect: "timeout" },
  { name: "os._exit", code: () => "import os\ndef transform(g):\n    os._exit(3)", expect: "crash" },
  { name: "segfault via ctypes", code: () => "import ctypes\ndef transform(g):\n    return ctypes.string_at(0)", expect: "crash" },
  { name: "unbounded recursion", code: () => "def f(n):\n    return f(n + 1)\ndef transform(g):\n    return f(0)", expect: "error" },
  {
    name: "stdout flood of fake protocol lines",
    code: () =>
      `import os, sys\ndef transform(g):\n    for _ in range(20000):\n        print('{"id": "r1", "i": 0, "status": "ok", "grid": [[9]], "ms": 0}')\n    os.write(1, b'{"id": "r1", "done": true, "ms": 0}\\n')\n    sys.stderr.write("x" * 2000000)\n    return [[7]]`,
    expect: "ok",
  },
  { name: "kill every process it can", code: () => "import os, signal\ndef transform(g):\n    os.kill(-1, signal.SIGKILL)\n    return g", expect: "error" },
  {
    name: "the Docker socket",
    code: () => "import socket\ndef transform(g):\n    s = socket.socket(socket.AF_UNIX)\n    s.connect('/var/run/docker.sock')\n    return g",
    expect: "error",
  },
  { name: "monkeypatching numpy", code: () => "import numpy as np\nnp.rot90 = lambda *a, **k: [[0]]\ndef transform(g):\n    return [[1]]", expect: "ok" },
];

const BACKENDS = [
  { name: "process", available: true, create: () => createProcessExecutor({ workers: 2, memoryBytes: 256 * 1024 ** 2, timeoutSeconds: 0.5 }) },
  {
    name: "landlock",
    available: true,
    create: () => createProcessExecutor({ workers: 2, memoryBytes: 256 * 1024 ** 2, timeoutSeconds: 0.5, isolation: "landlock" }),
  },
  { name: "docker", available: dockerAvailable, create: () => createDockerExecutor({ workers: 2, memoryBytes: 256 * 1024 ** 2, timeoutSeconds: 0.5 }) },
];

describe.each(BACKENDS.filter((b) => b.available))("the $name sandbox against hostile programs", ({ name, create }) => {
  let executor: Executor;
  const results = new Map<string, ExecResult>();

  beforeAll(async () => {
    executor = create();
    // Every hostile program is followed by a canary that uses numpy: nothing may leak into it.
    const jobs = hostile.flatMap((h, k) => [
      { programId: `hostile-${k}`, code: h.code(), inputs: INPUTS },
      { programId: `canary-${k}`, code: CANARY, inputs: INPUTS },
    ]);
    for await (const result of executor.run(jobs)) results.set(result.programId, result);
  });
  afterAll(async () => {
    await executor.close();
    if (name === "docker")
      expect(await waitFor(async () => (await arcforgeContainers((executor as Executor & { runId: string }).runId)).length === 0)).toBe(true);
  });

  it.each(hostile.map((h, k) => [h.name, h, k] as const))("%s gets the right outcome and harms nothing", (_name, h, k) => {
    const result = results.get(`hostile-${k}`)!;
    expect(result.outcomes).toHaveLength(INPUTS.length);
    for (const outcome of result.outcomes) expect(outcome.status, JSON.stringify(outcome)).toBe(h.expect);
    expect(JSON.stringify(result)).not.toContain("TOP-SECRET");
    h.hostCheck?.();
    const canary = results.get(`canary-${k}`)!;
    expect(canary.outcomes.map((o) => (o.status === "ok" ? o.grid : o))).toEqual(CANARY_OUTPUTS);
  });

  it("keeps the stdout flood out of the protocol: the program's real return value comes back", () => {
    const k = hostile.findIndex((h) => h.name.startsWith("stdout flood"));
    expect(results.get(`hostile-${k}`)!.outcomes.map((o) => o.status === "ok" && o.grid)).toEqual([[[7]], [[7]]]);
  });

  it("runs programs with Landlock and seccomp in force, as an unprivileged user where bubblewrap or docker wraps them", async () => {
    const info = await executor.info();
    expect(info.layers.seccomp).toBe(true);
    expect(Number(info.layers.landlock_abi)).toBeGreaterThan(0);
    if (name !== "landlock" && info.warnings.length === 0) expect(info.layers.uid).toBe(65534);
    expect(info.isolation).toBe(name === "landlock" ? "landlock+seccomp" : name === "docker" ? "docker" : "bubblewrap");
  });
});
