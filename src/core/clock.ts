/** Milliseconds since the Unix epoch. The only real clock is `systemClock`; everything else takes `now`. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
