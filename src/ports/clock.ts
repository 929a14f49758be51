/** Time, injected so tests and benchmarks control it; nothing in the engine calls `new Date()` itself. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
