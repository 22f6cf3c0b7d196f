import { HubError } from "../common/errors.js";

export const DEFAULT_HUB_URL = "https://huggingface.co";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/**
 * A token travels only over https, or plain http to this machine (a local emulator): anywhere
 * else the network would see it. --allow-http overrides, for a trusted network.
 */
export function guardEndpoint(params: { url: string; token?: string; allowHttp?: boolean }): void {
  if (!params.token || params.allowHttp) return;
  let parsed: URL;
  try {
    parsed = new URL(params.url);
  } catch {
    throw new HubError(`'${params.url}' is not a URL`);
  }
  if (parsed.protocol === "http:" && !LOOPBACK.test(parsed.hostname)) {
    throw new HubError(`refusing to send your token to ${parsed.origin} over plain http: use https, or pass --allow-http if this network is trusted`);
  }
}
