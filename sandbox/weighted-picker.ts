/**
 * Smooth weighted round-robin (the nginx algorithm): deterministic, evenly interleaved, and
 * exact over every run of 100 picks for integer percentages — so a test can send 100 requests
 * to a 90/10 split and assert 90 and 10 instead of a tolerance band. 0 % is never picked.
 */
export class WeightedPicker {
  #key: string | undefined;
  #current = new Map<string, number>();

  /** Picks from `weights` (id → weight); `key` identifies the split, and a new key restarts the cycle. */
  pick(key: string, weights: ReadonlyArray<{ id: string; weight: number }>): string | undefined {
    if (key !== this.#key) {
      this.#key = key;
      this.#current = new Map();
    }
    const live = weights.filter((w) => w.weight > 0);
    if (live.length === 0) return undefined;
    const total = live.reduce((sum, w) => sum + w.weight, 0);
    let best: { id: string; value: number } | undefined;
    for (const w of live) {
      const value = (this.#current.get(w.id) ?? 0) + w.weight;
      this.#current.set(w.id, value);
      if (!best || value > best.value) best = { id: w.id, value };
    }
    const chosen = best as { id: string; value: number };
    this.#current.set(chosen.id, chosen.value - total);
    return chosen.id;
  }
}
