import { HubError } from "../common/errors.js";

/** Bytes fetched, for the caller to report (and tests to bound). */
export interface TransferMeter {
  bytes: number;
  requests: number;
}

/**
 * A remote file as the Blob that parquet-wasm reads from: `size`, `slice(start, end)` and
 * `arrayBuffer()`, each slice one HTTP Range request carrying the token. parquet-wasm's own URL
 * reader sends no auth header, so private repos and mirrors need this.
 */
export class RangeBlob {
  constructor(
    private readonly params: { url: string; size: number; headers: Record<string, string>; fetch: typeof fetch; meter?: TransferMeter },
    private readonly start = 0,
    private readonly end = params.size,
  ) {}

  /** The file at `url`, sized by a HEAD request (X-Linked-Size for LFS files). */
  static async open(params: { url: string; headers: Record<string, string>; fetch?: typeof fetch; meter?: TransferMeter }): Promise<RangeBlob> {
    const fetchImpl = params.fetch ?? fetch;
    const response = await fetchImpl(params.url, { method: "HEAD", headers: params.headers });
    if (!response.ok) throw new HubError(`HEAD ${params.url} failed (HTTP ${response.status})`, response.status);
    const size = Number(response.headers.get("x-linked-size") ?? response.headers.get("content-length"));
    if (!Number.isFinite(size) || size <= 0) throw new HubError(`${params.url} did not say how large it is`);
    return new RangeBlob({ ...params, size, fetch: fetchImpl });
  }

  get size(): number {
    return this.end - this.start;
  }

  slice(start = 0, end = this.size): RangeBlob {
    const from = Math.min(this.start + Math.max(0, start), this.end);
    const to = Math.min(this.start + Math.max(0, end), this.end);
    return new RangeBlob(this.params, from, Math.max(from, to));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.size === 0) return new ArrayBuffer(0);
    const response = await this.params.fetch(this.params.url, { headers: { ...this.params.headers, Range: `bytes=${this.start}-${this.end - 1}` } });
    if (response.status !== 206 && !(response.status === 200 && this.start === 0 && this.end === this.params.size)) {
      throw new HubError(`a range read of ${this.params.url} failed (HTTP ${response.status}): the server must serve Range requests`, response.status);
    }
    const buffer = await response.arrayBuffer();
    if (this.params.meter) {
      this.params.meter.bytes += buffer.byteLength;
      this.params.meter.requests++;
    }
    return buffer;
  }
}
