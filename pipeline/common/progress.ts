import cliProgress from "cli-progress";

/** Typed events long operations emit; the CLI renders them, tests read them. */
export type ProgressEvent =
  | { type: "stage-start"; stage: string; cached: boolean; reason: string }
  | { type: "stage-end"; stage: string; kept: number; dropped: number; ms: number }
  | { type: "progress"; stage: string; done: number; total: number }
  | { type: "message"; level: "info" | "warn"; text: string };

/** Renders progress events as bars on a TTY and as plain lines elsewhere. */
export function createProgressRenderer(params: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}) {
  const stream = params.stream ?? process.stderr;
  const bars = new Map<string, cliProgress.SingleBar>();
  const interactive = Boolean(stream.isTTY) && !params.quiet;
  return {
    onEvent(event: ProgressEvent) {
      if (params.quiet && !(event.type === "message" && event.level === "warn")) return;
      switch (event.type) {
        case "stage-start":
          if (!event.cached) stream.write(`▸ ${event.stage}: ${event.reason}\n`);
          break;
        case "progress": {
          if (!interactive) return;
          let bar = bars.get(event.stage);
          if (!bar) {
            bar = new cliProgress.SingleBar(
              {
                stream,
                format: `  ${event.stage.padEnd(12)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
                hideCursor: true,
                clearOnComplete: true,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(event.total, event.done);
            bars.set(event.stage, bar);
          }
          bar.setTotal(event.total);
          bar.update(event.done);
          break;
        }
        case "stage-end": {
          bars.get(event.stage)?.stop();
          bars.delete(event.stage);
          break;
        }
        case "message":
          stream.write(`${event.level === "warn" ? "warning: " : ""}${event.text}\n`);
      }
    },
  };
}
