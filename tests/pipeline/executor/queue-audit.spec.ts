import { describe, expect, it } from "vitest";
import { resolveQueueAuth, sign, verify } from "../../../pipeline/executor/queue/queue-auth.js";
import { auditDisagreement, createAuditSample } from "../../../pipeline/executor/queue/queue-audit.js";
import { checkRemoteOutcomes, type Outcome } from "../../../schemas/outcome.js";

const ok = (grid: number[][]): Outcome => ({ status: "ok", grid, ms: 1 });

describe("queue answers' signatures", () => {
  const auth = { secret: "0123456789abcdef-secret" };

  it("verifies only the value, purpose and secret it was made for", () => {
    const mac = sign(auth, "answer", { job: "j", outcomes: [[1]] });
    expect(verify(auth, "answer", { job: "j", outcomes: [[1]] }, mac)).toBe(true);
    expect(verify(auth, "answer", { job: "j", outcomes: [[2]] }, mac)).toBe(false);
    expect(verify(auth, "job", { job: "j", outcomes: [[1]] }, mac)).toBe(false);
    expect(verify({ secret: "another-secret-of-16+" }, "answer", { job: "j", outcomes: [[1]] }, mac)).toBe(false);
    expect(verify(auth, "answer", { job: "j" }, undefined)).toBe(false);
  });

  it("takes the secret from the flag, then ARCFORGE_QUEUE_SECRET, and refuses none unless insecure", () => {
    expect(resolveQueueAuth({ secret: "from-the-flag-0123456", env: { ARCFORGE_QUEUE_SECRET: "from-the-env-0123456789" } })).toEqual({
      secret: "from-the-flag-0123456",
    });
    expect(resolveQueueAuth({ env: { ARCFORGE_QUEUE_SECRET: "from-the-env-0123456789" } })).toEqual({ secret: "from-the-env-0123456789" });
    expect(() => resolveQueueAuth({ env: {} })).toThrow(/--queue needs a shared secret/);
    expect(() => resolveQueueAuth({ secret: "short", env: {} })).toThrow(/at least 16 characters/);
    expect(resolveQueueAuth({ insecure: true, env: {} })).toEqual({});
  });
});

describe("the queue audit", () => {
  it("picks about the fraction asked for, none at 0 and all at 1", () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `job:${i}`);
    const picked = (fraction: number) => keys.filter((k) => createAuditSample(fraction).picks(k)).length;
    expect(picked(0)).toBe(0);
    expect(picked(1)).toBe(4000);
    expect(picked(0.1)).toBeGreaterThan(300);
    expect(picked(0.1)).toBeLessThan(500);
  });

  it("flags a different grid and a clean run the other side says failed, not messages, timings or runtime limits", () => {
    expect(auditDisagreement({ remote: [ok([[1]])], local: [ok([[1]])] })).toBeNull();
    expect(auditDisagreement({ remote: [{ ...ok([[1]]), ms: 99 }], local: [ok([[1]])] })).toBeNull();
    expect(auditDisagreement({ remote: [ok([[0]])], local: [ok([[1]])] })).toMatch(
      /input 0: it says grid \[\[0\]\], this machine's sandbox gives grid \[\[1\]\]/,
    );
    expect(auditDisagreement({ remote: [ok([[0]])], local: [{ status: "error", message: "x", ms: 1 }] })).toMatch(/it says grid .* gives error/);
    expect(auditDisagreement({ remote: [{ status: "error", message: "a", ms: 1 }], local: [{ status: "error", message: "b", ms: 1 }] })).toBeNull();
    expect(auditDisagreement({ remote: [ok([[0]])], local: [{ status: "timeout", reason: "cpu", ms: 1 }] })).toBeNull();
    expect(auditDisagreement({ remote: [ok([[0]])], local: [{ status: "crash", message: "died", ms: 0, transient: true }] })).toBeNull();
  });
});

describe("outcomes from a remote backend", () => {
  it("are checked against the grid rule and the one-answer-per-input contract", () => {
    expect(checkRemoteOutcomes([{ status: "ok", grid: [[1, 2]], ms: 1 }], 1)).toEqual([ok([[1, 2]])]);
    expect(checkRemoteOutcomes([{ status: "ok", grid: [[10]], ms: 1 }], 1)).toEqual([{ status: "invalid_output", reason: "out_of_range", ms: 1 }]);
    expect(checkRemoteOutcomes([{ status: "ok", grid: [[1], [1, 2]], ms: 1 }], 1)).toEqual([{ status: "invalid_output", reason: "ragged", ms: 1 }]);
    expect(checkRemoteOutcomes([{ status: "crash", message: "sandbox died", ms: 0, transient: true }], 1)).toEqual([
      { status: "crash", message: "sandbox died", ms: 0, transient: true },
    ]);
    expect(checkRemoteOutcomes([], 1)).toBe("0 outcomes for 1 inputs");
    expect(checkRemoteOutcomes([{ status: "solved" }], 1)).toMatch(/^outcome 0 is not an outcome/);
    expect(checkRemoteOutcomes("nothing", 1)).toBe("outcomes are not a list");
  });
});
