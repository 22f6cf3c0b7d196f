import Dockerode from "dockerode";
import { RUN_LABEL } from "../../pipeline/executor/docker-pool.js";

/** Docker tests run where an engine answers; CI sets ARCFORGE_REQUIRE_DOCKER=1 so that a missing engine fails instead. */
export const dockerAvailable: boolean = await new Dockerode().ping().then(
  () => true,
  () => {
    if (process.env.ARCFORGE_REQUIRE_DOCKER === "1") throw new Error("ARCFORGE_REQUIRE_DOCKER=1 but no Docker engine answers at /var/run/docker.sock");
    return false;
  },
);

/** The containers of one arcforge run still present (running or not). */
export async function arcforgeContainers(runId: string): Promise<string[]> {
  const list = await new Dockerode().listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${runId}`] } });
  return list.map((c) => c.Names[0] ?? c.Id);
}

/** Polls until `check` holds or `ms` pass; says whether it held. */
export async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
}
