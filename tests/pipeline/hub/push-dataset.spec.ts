import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveToken } from "../../../pipeline/hub/hub-token.js";
import { type PushEvent, pushDataset } from "../../../pipeline/hub/push-dataset.js";
import { datasetShards } from "../../../pipeline/sources/dataset-shards.js";
import { buildDataset, builtRows, readFates } from "../../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../../schemas/build-options.js";
import { type HubEmulator, startHubEmulator } from "../../hub-emulator/hub-emulator.js";
import { requireTestPython } from "../../support/python.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";

const run = promisify(execFile);
const TOKEN = "hf_arcforge_publish_token_51ab";
let hub: HubEmulator;
let flat: BuildOptions;
let openai: BuildOptions;
let cacheDir: string;

async function hubClient(command: "load" | "info", repo: string, config?: string): Promise<unknown> {
  const env = { ...process.env, HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HUB_DISABLE_XET: "1", HF_HOME: join(await tempDir(), "hf-home") };
  const { stdout } = await run(requireTestPython(), [join(process.cwd(), "tests", "support", "hub_client.py"), command, repo, ...(config ? [config] : [])], {
    env,
    maxBuffer: 1 << 28,
  });
  return JSON.parse(stdout);
}
const load = async (repo: string, config?: string) => (await hubClient("load", repo, config)) as Record<string, unknown[]>;

const push = (dir: string, repo: string, events: PushEvent[] = [], config?: string) =>
  pushDataset({ dir, repo, token: TOKEN, hubUrl: hub.url, retry: { baseDelayMs: 10 }, onEvent: (e) => events.push(e), config });
const files = (repo: string) => Object.keys(hub.store.head(hub.store.get("dataset", repo)!).files).sort();

beforeAll(async () => {
  hub = await startHubEmulator({ dataDir: await tempDir("arcforge-hub-") });
  ({ options: flat } = await demoWorld());
  openai = { ...flat, format: "openai", out: `${flat.out}-openai` };
  cacheDir = await tempDir();
  await buildDataset({ options: flat, cacheDir });
  await buildDataset({ options: openai, cacheDir });
});
afterAll(async () => hub.close());

describe("a pushed repo holds exactly the build", () => {
  it("replaces a flat build by an OpenAI JSONL build of the same data: the Parquet goes, and datasets loads the JSONL", async () => {
    await push(flat.out, "arc/formats");
    const events: PushEvent[] = [];
    await push(openai.out, "arc/formats", events);
    expect(files("arc/formats")).toEqual([
      ".gitattributes",
      "README.md",
      "data/train-00000-of-00001.jsonl",
      "fates.jsonl",
      "manifest.json",
      "provenance/train.jsonl",
      "report.html",
      "tasks.jsonl",
    ]);
    // Chat rows hold only messages; line i of the sidecar says where row i came from, and loaders never see it.
    const sidecar = readFileSync(join(openai.out, "provenance", "train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { attempt_id: string });
    const kept = new Set(
      readFates(openai.out)
        .filter((f) => f.fate === "kept:train")
        .map((f) => f.attempt_id),
    );
    expect(sidecar.map((l) => l.attempt_id).sort()).toEqual([...kept].sort());
    expect(events).toContainEqual({ type: "delete", paths: ["data/train-00000-of-00001.parquet"] });
    const [train] = await builtRows({ options: openai, cacheDir });
    expect((await load("arc/formats")).train).toEqual(train!.formatted);
  });

  it("keeps a file a user added outside arcforge's paths", async () => {
    await push(flat.out, "arc/user-file");
    const repo = hub.store.get("dataset", "arc/user-file")!;
    const user = await tempDir();
    await writeFile(join(user, "NOTES.md"), "mine");
    await run(
      requireTestPython(),
      [
        "-c",
        `from huggingface_hub import HfApi; HfApi().upload_file(path_or_fileobj="${join(user, "NOTES.md")}", path_in_repo="NOTES.md", repo_id="arc/user-file", repo_type="dataset")`,
      ],
      {
        env: { ...process.env, HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HUB_DISABLE_XET: "1", HF_HOME: join(user, "hf") },
      },
    );
    await push(openai.out, "arc/user-file");
    expect(files("arc/user-file")).toContain("NOTES.md");
    expect(repo.commits.length).toBe(4);
  });

  it("makes no commit when the head already holds the same card and data, even from a rebuild with other timings", async () => {
    await push(flat.out, "arc/twice");
    const again = { ...flat, out: `${flat.out}-again` };
    await buildDataset({ options: again, cacheDir });
    const events: PushEvent[] = [];
    const result = await push(again.out, "arc/twice", events);
    expect(result.upToDate).toBe(true);
    expect(events.some((e) => e.type === "up-to-date")).toBe(true);
    expect(hub.store.get("dataset", "arc/twice")!.commits).toHaveLength(2);
  });

  it("publishes the manifest with no local path in it", async () => {
    await push(flat.out, "arc/manifest");
    const repo = hub.store.get("dataset", "arc/manifest")!;
    const response = await fetch(`${hub.url}/datasets/arc/manifest/resolve/${hub.store.head(repo).oid}/manifest.json`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const text = await response.text();
    expect(JSON.parse(text).options.out).toBe(".");
    expect(text).not.toContain(flat.out);
    expect(text).not.toMatch(/"\/(tmp|home|root|work)\//);
  });
});

describe("reading a pushed repo back", () => {
  it("takes only the files its card's configs declare: a stray Parquet file elsewhere in the repo is never read", async () => {
    await push(flat.out, "arc/stray");
    await run(
      requireTestPython(),
      [
        "-c",
        `from huggingface_hub import HfApi; HfApi().upload_file(path_or_fileobj="${join(flat.out, "data", "train-00000-of-00001.parquet")}", path_in_repo="old/stray.parquet", repo_id="arc/stray", repo_type="dataset")`,
      ],
      { env: { ...process.env, HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HUB_DISABLE_XET: "1", HF_HOME: join(await tempDir(), "hf") } },
    );
    expect(files("arc/stray")).toContain("old/stray.parquet");
    const found = await datasetShards({ target: "arc/stray", hubUrl: hub.url, token: TOKEN, allowHttp: true });
    expect(found.shards.map((s) => [s.split, s.path])).toEqual([["train", "data/train-00000-of-00001.parquet"]]);
  });
});

describe("a split larger than --max-shard-size", () => {
  it("is written as several whole-task shards, the same bytes build after build, and loads with every value equal", async () => {
    const sharded = { ...flat, out: `${flat.out}-sharded`, maxShardBytes: 3_000 };
    await buildDataset({ options: sharded, cacheDir });
    const again = { ...sharded, out: `${sharded.out}-again` };
    await buildDataset({ options: again, cacheDir });
    const shards = readdirSync(join(sharded.out, "data")).sort();
    expect(shards.length).toBeGreaterThan(2);
    shards.forEach((name, i) => expect(name).toBe(`train-${String(i).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.parquet`));
    for (const name of shards) expect(readFileSync(join(again.out, "data", name))).toEqual(readFileSync(join(sharded.out, "data", name)));
    const rows = (await builtRows({ options: sharded, cacheDir }))[0]!.formatted;
    await push(sharded.out, "arc/sharded");
    expect((await load("arc/sharded")).train).toEqual(rows);
    // Whole tasks: no task's rows are in two shards.
    const manifest = JSON.parse(readFileSync(join(sharded.out, "manifest.json"), "utf8")) as { outputs: { rows: number; tasks: number }[] };
    expect(manifest.outputs.reduce((n, o) => n + o.rows, 0)).toBe(rows.length);
    expect(manifest.outputs.reduce((n, o) => n + o.tasks, 0)).toBe(new Set(rows.map((r) => `${r.dataset}/${r.task_id}`)).size);
  });

  it("shards JSONL the same way, each line whole", async () => {
    const sharded = { ...openai, out: `${openai.out}-sharded`, maxShardBytes: 3_000 };
    await buildDataset({ options: sharded, cacheDir });
    const names = readdirSync(join(sharded.out, "data")).sort();
    expect(names.length).toBeGreaterThan(1);
    const lines = names.flatMap((name) =>
      readFileSync(join(sharded.out, "data", name), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown),
    );
    expect(lines).toEqual((await builtRows({ options: sharded, cacheDir }))[0]!.formatted);
  });
});

describe("many cuts in one repo, as configs", () => {
  it("loads each config as its build, keeps the other's files and card entry, and refuses 'default'", async () => {
    const validation = { ...flat, validation: true, out: `${flat.out}-validation` };
    await buildDataset({ options: validation, cacheDir });
    await push(flat.out, "arc/cuts", [], "plain");
    await push(validation.out, "arc/cuts", [], "split");
    const [plainTrain] = await builtRows({ options: flat, cacheDir });
    const split = await builtRows({ options: validation, cacheDir });
    expect((await load("arc/cuts", "plain")).train).toEqual(plainTrain!.formatted);
    const loaded = await load("arc/cuts", "split");
    for (const s of split) expect(loaded[s.split]).toEqual(s.formatted);
    const names = files("arc/cuts");
    expect(names).toEqual(
      expect.arrayContaining([
        "data/plain/train-00000-of-00001.parquet",
        "data/split/validation-00000-of-00001.parquet",
        "plain/manifest.json",
        "split/fates.jsonl",
      ]),
    );
    expect(names.filter((n) => n.startsWith("data/") && !n.startsWith("data/plain/") && !n.startsWith("data/split/"))).toEqual([]);
    // The same cut again: nothing to commit.
    const commits = hub.store.get("dataset", "arc/cuts")!.commits.length;
    expect((await push(validation.out, "arc/cuts", [], "split")).upToDate).toBe(true);
    expect(hub.store.get("dataset", "arc/cuts")!.commits).toHaveLength(commits);
    await expect(push(flat.out, "arc/cuts", [], "default")).rejects.toThrow(/not 'default'/);
  });
});

describe("the card", () => {
  it("is titled by its datasets and models, has a table per model, and its load snippet names the repo it was pushed to", async () => {
    const card = readFileSync(join(flat.out, "README.md"), "utf8");
    const rows = (await builtRows({ options: flat, cacheDir }))[0]!.formatted as { model: string; dataset: string; correct_test_input: boolean[] }[];
    const models = [...new Set(rows.map((r) => r.model))].sort();
    const datasets = [...new Set(rows.map((r) => r.dataset.toUpperCase()))].sort().join(" and ");
    expect(card).toContain(`pretty_name: "${datasets} programs by ${models.length <= 3 ? models.join(", ") : `${models.length} models`}"`);
    for (const model of models) {
      const mine = rows.filter((r) => r.model === model);
      const solved = mine.filter((r) => r.correct_test_input.every(Boolean)).length;
      const cells = card
        .split("\n")
        .find((l) => l.startsWith(`| ${model} |`))!
        .split("|")
        .map((c) => c.trim());
      // model, programs read, rows, test-solving rows, tasks
      expect(cells.slice(3, 5)).toEqual([String(mine.length), String(solved)]);
      expect(Number(cells[2])).toBeGreaterThanOrEqual(mine.length);
    }
    expect(card).toContain('ds = load_dataset("<this repo>")');
    await push(flat.out, "arc/card");
    const repo = hub.store.get("dataset", "arc/card")!;
    const pushed = await (
      await fetch(`${hub.url}/datasets/arc/card/resolve/${hub.store.head(repo).oid}/README.md`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(pushed).toContain('ds = load_dataset("arc/card")');
  });
});

describe("a push that fails while uploading", () => {
  it("sends, run again, only the files the Hub does not have yet", async () => {
    const sharded = { ...flat, out: `${flat.out}-resume`, maxShardBytes: 3_000, generation: 7 };
    await buildDataset({ options: sharded, cacheDir });
    const shards = readdirSync(join(sharded.out, "data"));
    const whole = shards.reduce((n, name) => n + statSync(join(sharded.out, "data", name)).size, 0);
    // The Hub keeps the first two files; every later upload fails, so the commit is never made.
    hub.faults.push({ method: "PUT", path: /^\/lfs-upload\//, status: 500, times: 1000, skip: 2 });
    const before = hub.lfs.bytes;
    await expect(
      pushDataset({ dir: sharded.out, repo: "arc/resume", token: TOKEN, hubUrl: hub.url, retry: { attempts: 2, baseDelayMs: 5 } }),
    ).rejects.toThrow();
    hub.faults.length = 0;
    const first = hub.lfs.bytes - before;
    expect(first).toBeGreaterThan(0);
    await push(sharded.out, "arc/resume");
    const second = hub.lfs.bytes - before - first;
    expect(second).toBeLessThan(whole);
    expect(first + second).toBe(whole);
    expect((await load("arc/resume")).train).toEqual((await builtRows({ options: sharded, cacheDir }))[0]!.formatted);
  });
});

describe("the card's dataset_info", () => {
  it("declares each split's rows, which load_dataset checks: the same card with one number wrong fails to load", async () => {
    await push(flat.out, "arc/info");
    expect((await load("arc/info")).train).toHaveLength((await builtRows({ options: flat, cacheDir }))[0]!.formatted.length);
    const wrong = join(await tempDir(), "README.md");
    await writeFile(
      wrong,
      readFileSync(join(flat.out, "README.md"), "utf8").replace(/num_examples: (\d+)/, (_, n: string) => `num_examples: ${Number(n) + 1}`),
    );
    await run(
      requireTestPython(),
      [
        "-c",
        `from huggingface_hub import HfApi; HfApi().upload_file(path_or_fileobj="${wrong}", path_in_repo="README.md", repo_id="arc/info", repo_type="dataset")`,
      ],
      { env: { ...process.env, HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HUB_DISABLE_XET: "1", HF_HOME: join(await tempDir(), "hf") } },
    );
    await expect(load("arc/info")).rejects.toThrow(/NonMatchingSplitsSizesError|num_examples/);
  });
});

describe("the card's num_bytes", () => {
  it("is what datasets records loading the repo, for Parquet and JSONL, one shard or many", async () => {
    const builds = [
      { ...flat, validation: true, out: `${flat.out}-bytes` },
      { ...flat, validation: true, out: `${flat.out}-bytes-sharded`, maxShardBytes: 3_000 },
      { ...openai, validation: true, out: `${openai.out}-bytes-sharded`, maxShardBytes: 3_000 },
      { ...flat, format: "programs" as const, out: `${flat.out}-bytes-programs`, maxShardBytes: 5_000 },
    ];
    for (const [i, options] of builds.entries()) {
      await buildDataset({ options, cacheDir });
      await push(options.out, `arc/bytes-${i}`);
      const { card, recorded } = (await hubClient("info", `arc/bytes-${i}`)) as Record<"card" | "recorded", Record<string, [number, number]>>;
      expect(Object.keys(card).length, options.out).toBeGreaterThan(0);
      expect(card, options.out).toEqual(recorded);
    }
  });
});

describe("the token", () => {
  it("comes from --token, then HF_TOKEN, then the file huggingface-cli login saved under HF_HOME, named but never shown", async () => {
    const home = join(await tempDir(), "hf-home");
    await mkdir(home, { recursive: true });
    await writeFile(join(home, "token"), `  ${TOKEN}\n`);
    expect(resolveToken({}, { HF_HOME: home })).toEqual({ token: TOKEN, source: join(home, "token") });
    expect(resolveToken({}, { HF_HOME: home, HF_TOKEN: "hf_env" })).toEqual({ token: "hf_env", source: "HF_TOKEN" });
    expect(resolveToken({ token: "hf_flag" }, { HF_HOME: home, HF_TOKEN: "hf_env" })).toEqual({ token: "hf_flag", source: "--token" });
    expect(resolveToken({}, { HF_HOME: join(home, "none") })).toBeUndefined();
    const cli = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
    const env = { ...process.env, HF_HOME: home, HF_TOKEN: "" };
    const out = await run(process.execPath, [cli, "push", flat.out, "--repo", "arc/token-file", "--hub-url", hub.url], { env });
    expect(out.stderr).toContain(`using the Hugging Face token from ${join(home, "token")}`);
    expect(`${out.stdout}${out.stderr}`).not.toContain(TOKEN);
  });
});
