import { readdirSync, readFileSync } from "node:fs";

/** Every live descendant of `pid`, from /proc: tests act on the processes they started, never on a name pattern. */
export function descendants(pid = process.pid): number[] {
  const found: number[] = [];
  const walk = (parent: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8");
      } catch {
        continue;
      }
      for (const child of children.split(" ").filter(Boolean).map(Number)) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

const isRunner = (pid: number) => /python\S*(?: -[a-zA-Z]+)+ \S*runner\.py/.test(commandLine(pid));

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0;
  }
}

/** The sandbox fork servers (python runner.py, inside bwrap or not) this test process started; not their forked children. */
export function runnerPids(): number[] {
  return descendants().filter((pid) => isRunner(pid) && !isRunner(parentOf(pid)));
}

/** SIGKILL to a process that may already be gone. */
export function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** /proc/<pid>/limits, the text that shows every rlimit of a process. */
export function limitsOf(pid: number): string {
  return readFileSync(`/proc/${pid}/limits`, "utf8");
}

/** The nice value of a process (field 19 of /proc/<pid>/stat). */
export function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}
