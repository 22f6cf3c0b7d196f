/** What parquet-wasm reads from: a file's Blob, or a RangeBlob over HTTP (same shape). */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A Blob-like that serves a range it holds from memory: what the size check has just read (the
 * footer, the row group about to be decoded) is handed to the decoder without a second read,
 * which for a Hub file is a second download. It holds only what it is told to, until released.
 */
export class HeldBlob {
  private readonly held: { start: number; end: number; bytes: ArrayBuffer }[] = [];

  constructor(
    private readonly inner: BlobLike,
    private readonly start = 0,
    private readonly end = inner.size,
    private readonly root?: HeldBlob,
  ) {}

  get size(): number {
    return this.end - this.start;
  }

  slice(start = 0, end = this.size): HeldBlob {
    const clamp = (at: number) => Math.min(this.end, this.start + (at < 0 ? Math.max(0, this.size + at) : at));
    const from = clamp(start);
    return new HeldBlob(this.inner, from, Math.max(from, clamp(end)), this.root ?? this);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const root = this.root ?? this;
    const hit = root.held.find((h) => h.start <= this.start && this.end <= h.end);
    if (hit) return hit.bytes.slice(this.start - hit.start, this.end - hit.start);
    return this.inner.slice(this.start, this.end).arrayBuffer();
  }

  /** Reads bytes [start, end) of the file and keeps them until released. */
  async hold(start: number, end: number): Promise<Uint8Array> {
    const bytes = await this.inner.slice(start, end).arrayBuffer();
    this.held.push({ start, end, bytes });
    return new Uint8Array(bytes);
  }

  release(start: number, end: number): void {
    const at = this.held.findIndex((h) => h.start === start && h.end === end);
    if (at >= 0) this.held.splice(at, 1);
  }
}
