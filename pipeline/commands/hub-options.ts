import { Option, type Command } from "commander";
import { DEFAULT_HUB_URL } from "../hub/endpoint-guard.js";
import { resolveToken } from "../hub/hub-token.js";

export interface HubCliOptions {
  token?: string;
  hubUrl: string;
  allowHttp?: boolean;
}

/** --token (else HF_TOKEN) and --hub-url (else HF_ENDPOINT, else the Hub). The token is never printed. */
export function addHubOptions(command: Command): Command {
  return command
    .option("--token <token>", "Hugging Face token (default: HF_TOKEN, else the token huggingface-cli login saved)")
    .addOption(new Option("--hub-url <url>", "Hub endpoint").default(process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL, `HF_ENDPOINT, else ${DEFAULT_HUB_URL}`))
    .option("--allow-http", "send the token over plain http to a host other than this machine");
}

export const tokenOf = (options: HubCliOptions): string | undefined => resolveToken(options)?.token;
