import { describe, expect, it } from "vitest";
import { planIsolation } from "../../../pipeline/executor/runtime-fingerprint.js";

describe("choosing the isolation (fail closed)", () => {
  const machine = (bubblewrap: boolean, landlockAbi: number, seccomp: boolean) => ({ bubblewrap, landlockAbi, seccomp });

  it("uses bubblewrap when it works, whatever else the machine offers", () => {
    expect(planIsolation({ requested: "auto", ...machine(true, 7, true) })).toEqual({ isolation: "bubblewrap", warnings: [] });
    expect(planIsolation({ requested: "auto", ...machine(true, 0, false) }).isolation).toBe("bubblewrap");
  });

  it("falls back to Landlock and seccomp with a warning when bubblewrap is missing", () => {
    const plan = planIsolation({ requested: "auto", ...machine(false, 7, true) });
    expect(plan.isolation).toBe("landlock+seccomp");
    expect(plan.warnings.join()).toMatch(/bubblewrap is not available/);
  });

  it.each([
    ["no Landlock", machine(false, 0, true), /no Landlock/],
    ["no libseccomp", machine(false, 7, false), /libseccomp/],
    ["nothing at all", machine(false, 0, false), /no Landlock.*libseccomp/],
  ])("refuses to run with %s, naming what is missing and the way out", (_name, offered, missing) => {
    expect(() => planIsolation({ requested: "auto", ...offered })).toThrow(missing);
    expect(() => planIsolation({ requested: "auto", ...offered })).toThrow(/--isolation none/);
  });

  it("refuses --isolation bubblewrap where bwrap cannot run", () => {
    expect(() => planIsolation({ requested: "bubblewrap", ...machine(false, 7, true) })).toThrow(/apt-get install bubblewrap/);
  });

  it("runs without isolation only when asked by name, and says so", () => {
    const plan = planIsolation({ requested: "none", ...machine(false, 0, false) });
    expect(plan.isolation).toBe("none");
    expect(plan.warnings.join()).toMatch(/WITHOUT isolation/);
    expect(planIsolation({ requested: "none", ...machine(true, 7, true) }).isolation).toBe("landlock+seccomp");
  });
});

describe("--isolation landlock", () => {
  it("runs Landlock and seccomp without bubblewrap even where bubblewrap works", () => {
    expect(planIsolation({ requested: "landlock", bubblewrap: true, landlockAbi: 7, seccomp: true })).toEqual({ isolation: "landlock+seccomp", warnings: [] });
  });

  it("refuses when the kernel or libseccomp cannot give it", () => {
    expect(() => planIsolation({ requested: "landlock", bubblewrap: true, landlockAbi: 0, seccomp: true })).toThrow(
      /'landlock' was asked for, but the kernel offers no Landlock/,
    );
    expect(() => planIsolation({ requested: "landlock", bubblewrap: true, landlockAbi: 7, seccomp: false })).toThrow(/libseccomp/);
  });
});
