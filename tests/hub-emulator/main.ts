import { parseArgs } from "node:util";
import { startHubEmulator } from "./hub-emulator.js";

/** npm run hub-emulator -- --port 8765 --data ./hub-data */
const { values } = parseArgs({
  options: { port: { type: "string", default: "8765" }, data: { type: "string", default: ".hub-emulator" }, quiet: { type: "boolean", default: false } },
});
const hub = await startHubEmulator({ dataDir: values.data!, port: Number(values.port), log: values.quiet ? undefined : (line) => console.log(line) });
console.log(`Hub emulator at ${hub.url} (data in ${values.data}); any token starting with hf_ is accepted.`);
console.log(`Try: HF_ENDPOINT=${hub.url} HF_HUB_DISABLE_XET=1 python -c "import datasets; print(datasets.load_dataset('org/name'))"`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void hub.close().then(() => process.exit(0)));
