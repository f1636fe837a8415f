/** A clock tests move by hand: time passes only when a test says so. */
export class FakeClock {
  #now: number;

  constructor(start: string | number = "2026-01-15T10:00:00.000Z") {
    this.#now = typeof start === "number" ? start : Date.parse(start);
  }

  readonly now = (): number => this.#now;

  set(at: string | number): void {
    this.#now = typeof at === "number" ? at : Date.parse(at);
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
