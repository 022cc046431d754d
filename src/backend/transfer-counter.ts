/** Host↔device traffic of an engine since it opened (or since {@link TransferCounter.reset}). */
export interface TransferStats {
  /** Host → device copies and their bytes (the batch, parameters written by the host, ...). */
  uploads: number;
  uploadBytes: number;
  /** Device → host reads and their bytes (the loss, parameters read back, ...). */
  reads: number;
  readBytes: number;
}

/** Counts an engine's transfers; backends call `upload`/`read` at every copy they make. */
export class TransferCounter implements TransferStats {
  uploads = 0;
  uploadBytes = 0;
  reads = 0;
  readBytes = 0;
  upload(bytes: number): void {
    this.uploads++;
    this.uploadBytes += bytes;
  }
  read(bytes: number): void {
    this.reads++;
    this.readBytes += bytes;
  }
  snapshot(): TransferStats {
    return { uploads: this.uploads, uploadBytes: this.uploadBytes, reads: this.reads, readBytes: this.readBytes };
  }
  reset(): void {
    this.uploads = this.uploadBytes = this.reads = this.readBytes = 0;
  }
}
