import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { type AddResult, KeyPool, type SelectionMode } from "../core/key-pool.ts";
import { type KeyData, type KeyView, newKeyData } from "../core/key-record.ts";
import type { Limits } from "../core/limits.ts";
import { Secret } from "../core/secret.ts";
import { type AcquireResult, type KeyStore, PersistError, type PoolStats } from "./key-store.ts";
import { errorCode, type KeysFile } from "./keys-file.ts";
import { SaveQueue } from "./save-queue.ts";

export interface MemoryStoreOptions {
  readonly file: KeysFile;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly random: () => number;
  readonly newId: () => string;
  readonly logger: Logger;
}

/**
 * The pool held in this process's memory, persisted to keys.json. Dispenses
 * are saved by the periodic `saveIfChanged`; management changes are saved
 * before their promise resolves, and rolled back if that save fails.
 */
export class MemoryKeyStore implements KeyStore {
  readonly #pool: KeyPool;
  readonly #options: MemoryStoreOptions;
  readonly #saves: SaveQueue;
  #savedVersion = 0;
  #saveFailing = false;

  private constructor(pool: KeyPool, options: MemoryStoreOptions) {
    this.#pool = pool;
    this.#options = options;
    this.#saves = new SaveQueue(() => this.#save());
  }

  static async open(options: MemoryStoreOptions): Promise<MemoryKeyStore> {
    const now = options.clock();
    const keys = await options.file.load(now, options.newId);
    return new MemoryKeyStore(KeyPool.load(options.limits, keys, now), options);
  }

  acquire(mode: SelectionMode): Promise<AcquireResult> {
    return Promise.resolve(this.#pool.acquire(this.#options.clock(), mode, this.#options.random));
  }

  async add(secret: string): Promise<AddResult> {
    const [result] = await this.addBulk([secret]);
    return result as AddResult;
  }

  async addBulk(secrets: readonly string[]): Promise<AddResult[]> {
    const now = this.#options.clock();
    const results = secrets.map((secret) =>
      this.#pool.add(newKeyData(this.#options.newId(), new Secret(secret), now), now),
    );
    const addedIds = results.flatMap((result) => (result.ok ? [result.key.id] : []));
    if (addedIds.length > 0) {
      await this.#persist(() => {
        for (const id of addedIds) this.#pool.remove(id, this.#options.clock());
      });
    }
    return results;
  }

  async remove(ref: string): Promise<KeyView | undefined> {
    const key = this.#pool.find(ref);
    if (!key) return undefined;
    const saved: KeyData = { ...key };
    const view = this.#pool.remove(key.id, this.#options.clock());
    await this.#persist(() => this.#pool.restore(saved, this.#options.clock()));
    return view;
  }

  deactivate(ref: string): Promise<KeyView | undefined> {
    return this.#changeStatus(ref, (id, now) => this.#pool.deactivate(id, now));
  }

  reactivate(ref: string): Promise<KeyView | undefined> {
    return this.#changeStatus(ref, (id, now) => this.#pool.reactivate(id, now));
  }

  list(): Promise<KeyView[]> {
    const now = this.#options.clock();
    this.#pool.advance(now);
    return Promise.resolve(this.#pool.list(now));
  }

  stats(): Promise<PoolStats> {
    const now = this.#options.clock();
    this.#pool.advance(now);
    return Promise.resolve(this.#pool.stats(now));
  }

  /** Ends cooldowns that are due and saves if anything changed since the last save. */
  async saveIfChanged(): Promise<void> {
    this.#pool.advance(this.#options.clock());
    if (this.#pool.version !== this.#savedVersion) await this.#saves.request();
  }

  async flush(): Promise<void> {
    await this.saveIfChanged();
    await this.#saves.idle();
  }

  async #changeStatus(
    ref: string,
    change: (id: string, now: number) => KeyView | undefined,
  ): Promise<KeyView | undefined> {
    const key = this.#pool.find(ref);
    if (!key) return undefined;
    const { id, status, deactivatedAt } = key;
    const view = change(id, this.#options.clock());
    await this.#persist(() =>
      this.#pool.setStatus(id, status, deactivatedAt, this.#options.clock()),
    );
    return view;
  }

  async #persist(undo: () => void): Promise<void> {
    try {
      await this.#saves.request(undo);
    } catch (error) {
      throw new PersistError(
        `could not save ${this.#options.file.path} (${errorCode(error)}); the change was not made`,
      );
    }
  }

  async #save(): Promise<void> {
    const version = this.#pool.version;
    // A consistent picture taken in one turn: a change made while the file is
    // being written belongs to the next save, never half to this one.
    const snapshot = Array.from(this.#pool.records(), (key): KeyData => ({ ...key }));
    try {
      await this.#options.file.save(snapshot);
    } catch (error) {
      if (!this.#saveFailing) {
        this.#saveFailing = true;
        this.#options.logger.error(
          { file: this.#options.file.path, code: errorCode(error) },
          "saving keys failed; serving continues, changes are refused until saving works again",
        );
      }
      throw error;
    }
    if (this.#saveFailing) {
      this.#saveFailing = false;
      this.#options.logger.info({ file: this.#options.file.path }, "saving keys works again");
    }
    this.#savedVersion = version;
  }
}
