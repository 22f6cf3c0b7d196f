import { HubError } from "../common/errors.js";

export interface RetryOptions {
  /** Attempts per request, the first included. */
  attempts: number;
  /** First backoff in ms; doubled each retry, with jitter. */
  baseDelayMs: number;
  fetch?: typeof fetch;
  onRetry?: (info: { url: string; attempt: number; reason: string; delayMs: number }) => void;
  /**
   * Whether a request whose connection failed may be sent again (default: yes). A 429 or 5xx
   * answer is always retried: the server said it did nothing. A lost answer says nothing.
   */
  resendAfterNetworkError?: (url: string, init?: RequestInit) => boolean;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** A body a retry can send again; a stream is consumed by the first try. */
function replayable(init?: RequestInit): boolean {
  const body = init?.body;
  return (
    body === undefined ||
    body === null ||
    typeof body === "string" ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof Blob ||
    body instanceof URLSearchParams
  );
}

/**
 * fetch with retries and exponential backoff on 429, 5xx and dropped connections, honouring
 * Retry-After. A 412 (commit conflict) is not retried here: the caller re-reads the head.
 */
export function retryingFetch(options: RetryOptions): typeof fetch {
  const inner = options.fetch ?? fetch;
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const attempts = replayable(init) ? options.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let retryAfterMs: number | undefined;
      try {
        const response = await inner(input, init);
        if (!RETRYABLE.has(response.status) || attempt >= attempts) return response;
        reason = `HTTP ${response.status}`;
        const retryAfter = Number(response.headers.get("retry-after"));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = Math.min(retryAfter * 1000, 60_000);
        await response.body?.cancel();
      } catch (error) {
        if (init?.signal?.aborted || attempt >= attempts || options.resendAfterNetworkError?.(url, init) === false) throw error;
        reason = (error as Error).message;
      }
      const delayMs = retryAfterMs ?? Math.round(options.baseDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
      options.onRetry?.({ url, attempt, reason, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  };
}

/** Error text with the token removed, wherever a library may have put it. */
export function redact(text: string, token: string | undefined): string {
  return token ? text.split(token).join("hf_***") : text;
}

export function hubError(action: string, error: unknown, token: string | undefined): HubError {
  const status = (error as { statusCode?: number }).statusCode;
  const message = redact((error as Error).message ?? String(error), token);
  return new HubError(`${action} failed${status ? ` (HTTP ${status})` : ""}: ${message}`, status);
}
