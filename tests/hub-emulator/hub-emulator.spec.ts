import { createRepo, downloadFile, uploadFiles } from "@huggingface/hub";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/stage-harness.js";
import { startHubEmulator } from "./hub-emulator.js";

const accessToken = "hf_emulator_test";

describe("the Hub emulator", () => {
  it("keeps real revisions and persists them across a restart", async () => {
    const dataDir = await tempDir();
    const hub = await startHubEmulator({ dataDir });
    const repo = { type: "dataset" as const, name: "org/persist" };
    await createRepo({ repo, accessToken, hubUrl: hub.url });
    await uploadFiles({ repo, accessToken, hubUrl: hub.url, useXet: false, files: [{ path: "a.txt", content: new Blob(["first"]) }] });
    const first = (await (await fetch(`${hub.url}/api/datasets/org/persist/revision/main`)).json()) as { sha: string };
    await uploadFiles({ repo, accessToken, hubUrl: hub.url, useXet: false, files: [{ path: "a.txt", content: new Blob(["second"]) }] });
    await hub.close();

    const again = await startHubEmulator({ dataDir });
    const head = (await (await fetch(`${again.url}/api/datasets/org/persist/revision/main`)).json()) as { sha: string };
    expect(head.sha).not.toBe(first.sha);
    expect(await (await downloadFile({ repo, path: "a.txt", hubUrl: again.url }))!.text()).toBe("second");
    expect(await (await downloadFile({ repo, path: "a.txt", revision: first.sha, hubUrl: again.url }))!.text()).toBe("first");
    await again.close();
  });

  it("answers ranges with 206 and missing things with the error codes clients expect", async () => {
    const hub = await startHubEmulator({ dataDir: await tempDir() });
    const repo = { type: "dataset" as const, name: "org/range" };
    await createRepo({ repo, accessToken, hubUrl: hub.url });
    await uploadFiles({ repo, accessToken, hubUrl: hub.url, useXet: false, files: [{ path: "data/x.parquet", content: new Blob(["0123456789"]) }] });
    const part = await fetch(`${hub.url}/datasets/org/range/resolve/main/data/x.parquet`, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await part.text()).toBe("2345");
    const head = await fetch(`${hub.url}/datasets/org/range/resolve/main/data/x.parquet`, { method: "HEAD" });
    expect(head.headers.get("x-linked-size")).toBe("10");
    expect((await fetch(`${hub.url}/datasets/org/range/resolve/main/range.py`)).headers.get("x-error-code")).toBe("EntryNotFound");
    expect((await fetch(`${hub.url}/api/datasets/org/nope`)).headers.get("x-error-code")).toBe("RepoNotFound");
    expect((await fetch(`${hub.url}/api/datasets/org/range/revision/0000000`)).headers.get("x-error-code")).toBe("RevisionNotFound");
    const unauthorised = await fetch(`${hub.url}/api/repos/create`, {
      method: "POST",
      body: JSON.stringify({ name: "x", organization: "org", type: "dataset" }),
      headers: { Authorization: "Bearer not-a-token" },
    });
    expect(unauthorised.status).toBe(401);
    await hub.close();
  });
});
