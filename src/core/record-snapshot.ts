import type { KeyData, KeyRecord } from "./key-record.ts";

/**
 * Every key as it was at one moment, kept by copy-on-write: opening one takes
 * references, not copies, and a record is copied only when it is about to
 * change while the snapshot is open. A save reads it a chunk at a time across
 * many turns and still writes one consistent picture; copying all 100,000
 * records up front held the event loop for 10-30 ms and left that much
 * garbage for a full GC.
 */
export class RecordSnapshot {
  readonly #records: readonly KeyRecord[];
  #before: Map<KeyRecord, KeyData> | null = new Map();

  constructor(records: readonly KeyRecord[]) {
    this.#records = records;
  }

  get size(): number {
    return this.#records.length;
  }

  /** Called before `record` changes: keeps its present state if the snapshot needs it. */
  preserve(record: KeyRecord): void {
    if (this.#before === null || this.#before.has(record)) return;
    this.#before.set(record, { ...record, outcomes: { ...record.outcomes } });
  }

  /** The keys as they were when the snapshot was opened, in order. */
  *keys(): Generator<KeyData> {
    for (const record of this.#records) {
      if (this.#before === null) throw new Error("the snapshot is closed");
      yield this.#before.get(record) ?? record;
    }
  }

  /** Stops keeping copies; the snapshot can no longer be read. */
  close(): void {
    this.#before = null;
  }
}
