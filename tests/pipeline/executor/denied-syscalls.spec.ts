import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNNER_DIR, RUNNER_PATH } from "../../../pipeline/common/paths.js";
import { findBubblewrap } from "../../../pipeline/executor/bubblewrap.js";
import { createDockerExecutor } from "../../../pipeline/executor/docker-pool.js";
import { findPython } from "../../../pipeline/executor/find-python.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { ExecResult, Executor } from "../../../pipeline/executor/types.js";
import { dockerAvailable } from "../../support/docker.js";

const run = promisify(execFile);

/**
 * One probe per denied family: [family, syscall number on x86_64, arguments]. Arguments are
 * harmless where a call would be let through (signal 0, paths that do not exist, null pointers),
 * so a broken filter shows as a wrong errno, never as damage.
 */
const PROBES: [string, number, string][] = [
  ["socket", 41, "2, 1, 0"],
  ["execve", 59, 'b"/bin/true", None, None'],
  ["fork", 57, ""],
  ["clone3", 435, "None, 0"],
  ["kill (another process)", 62, "os.getppid(), 0"],
  ["tgkill (another process)", 234, "os.getppid(), os.getppid(), 0"],
  ["rt_sigqueueinfo", 129, "os.getppid(), 0, buf"],
  ["pidfd_open", 434, "os.getppid(), 0"],
  ["ptrace", 101, "0, 0, 0, 0"],
  ["process_vm_readv", 310, "os.getppid(), None, 0, None, 0, 0"],
  ["prlimit64 (another process)", 302, "os.getppid(), 7, None, buf"],
  ["setpriority (another process)", 141, "0, os.getppid(), 0"],
  ["sched_setaffinity (another process)", 203, "os.getppid(), 0, None"],
  ["mount", 165, 'b"none", b"/nonexistent", b"tmpfs", 0, None'],
  ["unshare", 272, "0x10000000"],
  ["setns", 308, "-1, 0"],
  ["chroot", 161, 'b"/nonexistent"'],
  ["bpf", 321, "0, None, 0"],
  ["perf_event_open", 298, "None, 0, -1, -1, 0"],
  ["io_uring_setup", 425, "1, buf"],
  ["userfaultfd", 323, "0"],
  ["keyctl", 250, "0, 0, 0, 0, 0"],
  ["add_key", 248, 'b"user", b"x", None, 0, 0'],
  ["memfd_create", 319, 'b"x", 0'],
  ["personality", 135, "0xffffffff"],
  ["setuid", 105, "0"],
  ["setgroups", 116, "0, None"],
  ["mkdir", 83, 'b"/nonexistent/x", 0o700'],
  ["unlink", 87, 'b"/nonexistent/x"'],
  ["rename", 82, 'b"/nonexistent/x", b"/nonexistent/y"'],
  ["symlink", 88, 'b"/nonexistent/x", b"/nonexistent/y"'],
  ["mknod", 133, 'b"/nonexistent/x", 0, 0'],
  ["chmod", 90, 'b"/nonexistent/x", 0o777'],
  ["fchmodat2 (newer than this libseccomp)", 452, '-100, b"/nonexistent/x", 0o777, 0'],
  ["chown", 92, 'b"/nonexistent/x", 0, 0'],
  ["utimensat", 280, '-100, b"/nonexistent/x", None, 0'],
  ["setxattr", 188, 'b"/nonexistent/x", b"user.x", b"1", 1, 0'],
  ["removexattr", 197, 'b"/nonexistent/x", b"user.x"'],
  ["truncate", 76, 'b"/nonexistent/x", 0'],
  ["open_by_handle_at", 304, "-1, None, 0"],
  ["init_module", 175, 'None, 0, b""'],
  ["reboot", 169, "0, 0, 0, None"],
  ["settimeofday", 164, "None, None"],
  ["sethostname", 170, 'b"x", 1'],
  ["mseal (newer than this libseccomp)", 462, "0, 0, 0"],
  ["open_tree_attr (newer than this libseccomp)", 467, "-1, None, 0, None, 0"],
];

const probeCode = (nr: number, args: string) => `import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)
def transform(g):
    ctypes.set_errno(0)
    result = libc.syscall(${nr}${args ? `, ${args}` : ""})
    if result != -1:
        return [[0]]
    return [[1]] if ctypes.get_errno() == errno.EPERM else [[2]]`;

const BACKENDS = [
  {
    name: "process backend in bubblewrap",
    available: (await findBubblewrap()) !== null,
    create: () => createProcessExecutor({ workers: 2, timeoutSeconds: 1, isolation: "bubblewrap" }),
  },
  {
    name: "process backend with Landlock and seccomp only",
    available: true,
    create: () => createProcessExecutor({ workers: 2, timeoutSeconds: 1, isolation: "none" }),
  },
  { name: "docker backend", available: dockerAvailable, create: () => createDockerExecutor({ workers: 2, timeoutSeconds: 1 }) },
];

describe.each(BACKENDS.filter((b) => b.available))("the $name refuses every denied syscall family", ({ create }) => {
  let executor: Executor;
  const results = new Map<string, ExecResult>();
  beforeAll(async () => {
    executor = create();
    for await (const r of executor.run(PROBES.map(([family, nr, args]) => ({ programId: family, code: probeCode(nr, args), inputs: [[[0]]] }))))
      results.set(r.programId, r);
  }, 120_000);
  afterAll(() => executor.close());

  it.each(PROBES.map(([family]) => [family]))("%s fails with EPERM", (family) => {
    expect(results.get(family)!.outcomes[0]).toMatchObject({ status: "ok", grid: [[1]] });
  });
});

/** The kernel's syscall table as the installed headers name it (Debian's linux-libc-dev). */
function kernelTable(): Map<string, number> {
  const header = ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"].find(existsSync);
  const table = new Map<string, number>();
  for (const match of readFileSync(header!, "utf8").matchAll(/#define __NR_(\w+) (\d+)/g)) table.set(match[1]!, Number(match[2]));
  return table;
}

describe("the seccomp filter, as libseccomp exports it", () => {
  let pfc: string;
  let allowedNames: string[];
  beforeAll(async () => {
    const python = await findPython();
    // No bytecode written beside the runner: its children fault more pages when it loads its modules from .pyc files.
    const env = { PYTHONPATH: python.sitePaths.join(":"), PYTHONDONTWRITEBYTECODE: "1" };
    pfc = (
      await run(python.executable, ["-s", "-S", RUNNER_PATH, "--path", python.sitePaths.join(":"), "--export-seccomp-pfc"], {
        env: { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" },
      })
    ).stdout;
    const listed = await run(
      python.executable,
      ["-S", "-c", "import json, isolation as i; print(json.dumps([*i.ALLOWED_SYSCALLS, *(n for n, _ in i.SELF_ONLY), *(n for n, _ in i.OPEN_CALLS)]))"],
      { env, cwd: RUNNER_DIR },
    );
    allowedNames = JSON.parse(listed.stdout) as string[];
  });

  it("denies by default: everything not listed falls to ERRNO(EPERM)", () => {
    const lines = pfc.trim().split("\n");
    expect(lines.filter((l) => /action ALLOW/.test(l)).length).toBeGreaterThan(50);
    expect(pfc).toMatch(/# default action\s*\n\s*action ERRNO\(1\);/);
  });

  it("allows exactly the listed syscalls, and compares them with the kernel's table", () => {
    const table = kernelTable();
    const allowedNumbers = new Set([...pfc.matchAll(/if \(\$syscall == (\d+)\)/g)].map((m) => Number(m[1])));
    const expected = new Set(allowedNames.map((name) => table.get(name)).filter((n): n is number => n !== undefined));
    expect([...allowedNumbers].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    const denied = [...table].filter(([, nr]) => !allowedNumbers.has(nr)).map(([name]) => name);
    for (const family of [
      "kill",
      "tgkill",
      "rt_sigqueueinfo",
      "rt_tgsigqueueinfo",
      "ptrace",
      "setpriority",
      "sched_setaffinity",
      "sched_setscheduler",
      "fchmod",
      "fchmodat",
      "utimensat",
      "utime",
      "setxattr",
      "fsetxattr",
      "keyctl",
      "add_key",
      "socket",
      "execve",
      "fork",
      "clone",
      "clone3",
      "unlink",
      "mount",
      "unshare",
    ]) {
      expect(denied, family).toContain(family);
    }
    // Newer syscalls than the installed headers know are not in the filter at all: denied by default.
    const newest = Math.max(...table.values());
    for (let nr = newest + 1; nr < newest + 32; nr++) expect(allowedNumbers.has(nr)).toBe(false);
  });

  it("lets prlimit64 act only on the calling process and open files only for reading", () => {
    expect(pfc).toMatch(/filter for syscall "prlimit64" \(302\)[\s\S]*?if \(\$a0\.hi32 == 0\)[\s\S]*?if \(\$a0\.lo32 == 0\)\s*\n\s*action ALLOW;/);
    expect(pfc).toMatch(/filter for syscall "openat" \(257\)[\s\S]*?if \(\$a2\.lo32 & 0x00000643 == 0\)\s*\n\s*action ALLOW;/);
  });
});
