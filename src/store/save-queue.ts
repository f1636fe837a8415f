import PQueue from "p-queue";

type Undo = () => void;

/**
 * Runs saves one at a time and coalesces requests: every request made before
 * a save starts is answered by that save, so a burst of changes costs one write
 * and no change waits behind more than one write already under way.
 *
 * A request may carry an undo. If its save fails, the undos run inside the
 * failed save's turn, before any later save can start, so a change whose caller
 * hears "not saved" never reaches the disk by a later write.
 */
export class SaveQueue {
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #save: () => Promise<void>;
  #next: PromiseWithResolvers<void> | null = null;
  #nextUndos: Undo[] = [];

  constructor(save: () => Promise<void>) {
    this.#save = save;
  }

  request(undo?: Undo): Promise<void> {
    if (undo) this.#nextUndos.push(undo);
    if (this.#next) return this.#next.promise;
    // Set before queueing: p-queue may start the task inside add(), and the
    // task must see (and retire) the very request it is answering.
    const next = Promise.withResolvers<void>();
    this.#next = next;
    void this.#queue.add(() => this.#run(next));
    return next.promise;
  }

  /** Resolves once every save requested so far has finished. */
  async idle(): Promise<void> {
    await this.#queue.onIdle();
  }

  async #run(next: PromiseWithResolvers<void>): Promise<void> {
    const undos = this.#nextUndos;
    this.#next = null;
    this.#nextUndos = [];
    try {
      await this.#save();
      next.resolve();
    } catch (error) {
      for (const undo of undos.reverse()) undo();
      next.reject(error);
    }
  }
}
