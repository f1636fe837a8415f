import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { type KeyView, type NewKey, newKeyData } from "../core/key-record.ts";
import type { PoolSettings } from "../core/limits.ts";
import { PoolSet } from "../core/pool-set.ts";
import { Secret } from "../core/secret.ts";
import type {
  AcquireResult,
  AddResult,
  KeyStore,
  Outcome,
  PoolStats,
  SelectionMode,
} from "./key-store.ts";
import { PersistError } from "./key-store.ts";
import { errorCode, type KeysFile } from "./keys-file.ts";
import { SaveQueue } from "./save-queue.ts";

// No pool version is ever negative, so this differs from every version until a save.
const UNSAVED = -1;

export interface MemoryStoreOptions {
  readonly file: KeysFile;
  readonly settingsOf: (pool: string) => PoolSettings;
  /** Pools that exist even while empty. */
  readonly configuredPools?: readonly string[];
  readonly clock: Clock;
  readonly random: () => number;
  readonly newId: () => string;
  readonly logger: Logger;
}

/**
 * The pools held in this process's memory, persisted to keys.json. Dispenses
 * and most reports are saved by the periodic `saveIfChanged`; management
 * changes (and a key reported invalid) are saved before their promise
 * resolves, and rolled back if that save fails.
 */
export class MemoryKeyStore implements KeyStore {
  readonly #pools: PoolSet;
  readonly #options: MemoryStoreOptions;
  readonly #saves: SaveQueue;
  readonly #listeners = new Set<(pool: string) => void>();
  #savedVersion = 0;
  #saveFailing = false;

  private constructor(pools: PoolSet, options: MemoryStoreOptions) {
    this.#pools = pools;
    this.#options = options;
    this.#saves = new SaveQueue(() => this.#save());
  }

  static async open(options: MemoryStoreOptions): Promise<MemoryKeyStore> {
    const now = options.clock();
    const pools = new PoolSet(options.settingsOf, options.configuredPools ?? []);
    let minted = 0;
    const newId = () => {
      minted++;
      return options.newId();
    };
    await options.file.load(now, newId, (key) => pools.loadKey(key, now));
    const store = new MemoryKeyStore(pools, options);
    // A file without ids (the seed service's) gets them here, and they are
    // written at once so that a restart keeps them. Not awaited: at 100,000 keys
    // that save held the first /next back by 0.3-0.6 s (bench/README.md), and
    // until it lands a crash loses no more than it loses of the counters.
    // A failed write is logged by #save and retried with the next saveIfChanged.
    if (minted > 0) {
      store.#savedVersion = UNSAVED;
      store.saveIfChanged().catch(() => {});
    }
    return store;
  }

  acquire(mode: SelectionMode, pool: string): Promise<AcquireResult> {
    return Promise.resolve(this.#pools.acquire(pool, this.#now(), mode, this.#options.random));
  }

  async add(secret: string, options?: NewKey): Promise<AddResult> {
    const [result] = await this.addBulk([secret], options);
    return result as AddResult;
  }

  async addBulk(secrets: readonly string[], options: NewKey = {}): Promise<AddResult[]> {
    const now = this.#now();
    const results = secrets.map((secret) =>
      this.#pools.add(newKeyData(this.#options.newId(), new Secret(secret), now, options), now),
    );
    const added = results.flatMap((result) => (result.ok ? [result.key] : []));
    if (added.length > 0) {
      await this.#persist(() => {
        for (const key of added) this.#pools.remove(key.id, this.#now());
      });
      this.#changed(added[0]?.pool);
    }
    return results;
  }

  find(ref: string): Promise<{ id: string; pool: string; secret: Secret } | undefined> {
    const key = this.#pools.find(ref);
    return Promise.resolve(key && { id: key.id, pool: key.pool, secret: key.secret });
  }

  async remove(ref: string): Promise<KeyView | undefined> {
    // A copy, as the key is now: what undoes the removal if it cannot be saved.
    const saved = this.#pools.find(ref);
    if (!saved) return undefined;
    const view = this.#pools.remove(saved.id, this.#now());
    await this.#persist(() => this.#pools.restore(saved, this.#now()));
    return view;
  }

  deactivate(ref: string): Promise<KeyView | undefined> {
    return this.#changeDurably(ref, (id, now) => this.#pools.deactivate(id, now));
  }

  reactivate(ref: string): Promise<KeyView | undefined> {
    return this.#changeDurably(ref, (id, now) => this.#pools.reactivate(id, now));
  }

  async report(
    ref: string,
    outcome: Outcome,
    retryAfterMs: number | null,
  ): Promise<KeyView | undefined> {
    // Disabling is an operator-visible decision worth a write now; rests and
    // counters are like dispense counters, saved with the next interval.
    if (outcome === "invalid") {
      return this.#changeDurably(ref, (id, now) =>
        this.#pools.report(id, outcome, retryAfterMs, now),
      );
    }
    const key = this.#pools.find(ref);
    if (!key) return undefined;
    const view = this.#pools.report(key.id, outcome, retryAfterMs, this.#now());
    this.#changed(key.pool);
    return view;
  }

  list(pool?: string): Promise<KeyView[]> {
    const now = this.#now();
    this.#pools.advance(now);
    return Promise.resolve(this.#pools.list(now, pool));
  }

  stats(): Promise<Map<string, PoolStats>> {
    const now = this.#now();
    this.#pools.advance(now);
    return Promise.resolve(this.#pools.stats(now));
  }

  hasPool(pool: string): boolean {
    return this.#pools.has(pool);
  }

  settings(pool: string): PoolSettings {
    return this.#pools.settings(pool);
  }

  nextChangeAt(pool: string): number | null {
    return this.#pools.nextChangeAt(pool, this.#now());
  }

  onChange(listener: (pool: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends cooldowns and rests that are due and saves if anything changed since the last save. */
  async saveIfChanged(): Promise<void> {
    this.#pools.advance(this.#now());
    if (this.#pools.version !== this.#savedVersion) await this.#saves.request();
  }

  async flush(): Promise<void> {
    await this.saveIfChanged();
    await this.#saves.idle();
  }

  #now(): number {
    return this.#options.clock();
  }

  #changed(pool: string | undefined): void {
    if (pool === undefined) return;
    for (const listener of this.#listeners) listener(pool);
  }

  async #changeDurably(
    ref: string,
    change: (id: string, now: number) => KeyView | undefined,
  ): Promise<KeyView | undefined> {
    // A copy, as the key is now: what undoes the change if it cannot be saved.
    const saved = this.#pools.find(ref);
    if (!saved) return undefined;
    const view = change(saved.id, this.#now());
    await this.#persist(() => this.#pools.restore(saved, this.#now()));
    this.#changed(saved.pool);
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
    const version = this.#pools.version;
    // A consistent picture of this moment: a change made while the file is
    // being written belongs to the next save, never half to this one.
    const snapshot = this.#pools.openSnapshot();
    try {
      await this.#options.file.save(snapshot.keys());
    } catch (error) {
      if (!this.#saveFailing) {
        this.#saveFailing = true;
        this.#options.logger.error(
          { file: this.#options.file.path, code: errorCode(error) },
          "saving keys failed; serving continues, changes are refused until saving works again",
        );
      }
      throw error;
    } finally {
      snapshot.close();
    }
    if (this.#saveFailing) {
      this.#saveFailing = false;
      this.#options.logger.info({ file: this.#options.file.path }, "saving keys works again");
    }
    this.#savedVersion = version;
  }
}
