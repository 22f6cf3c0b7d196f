import type { Command } from "commander";

export function registerSandboxCommand(program: Command): void {
  const sandbox = program.command("sandbox").description("the sandbox's Docker image");
  sandbox
    .command("build-image")
    .description("build the sandbox image offline with docker import, from this machine's Python and numpy")
    .option("--force", "rebuild even when an image with this tag exists")
    .action(async (options: { force?: boolean }) => {
      const [{ buildSandboxImage }, { connectDocker }, { findPython }] = await Promise.all([
        import("../executor/docker-image.js"),
        import("../executor/docker-pool.js"),
        import("../executor/find-python.js"),
      ]);
      const docker = await connectDocker();
      const tag = await buildSandboxImage({
        docker,
        python: await findPython(),
        force: options.force,
        onProgress: (text) => process.stderr.write(`${text}\n`),
      });
      process.stdout.write(`${tag}\n`);
    });
}
