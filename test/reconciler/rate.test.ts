import { describe, expect, it } from 'vitest';
import { RateLimiter, rateWait, type RateWindow, type Sent } from '../../reconciler/transport/rate.js';

const w: RateWindow = { limit: 10, windowMs: 1000, marginMs: 20 };

describe("the client's window of Graph's per-app rate", () => {
  it('sends at once while the last window holds room, $batch items counted one by one', () => {
    expect(rateWait([], 0, 1, w)).toBe(0);
    expect(rateWait([{ at: 0, count: 9 }], 500, 1, w)).toBe(0);
    expect(rateWait([{ at: 0, count: 9 }], 500, 2, w)).toBe(520);
  });

  it('waits until enough of the oldest sends have left the window, the margin included', () => {
    const sent: Sent[] = [
      { at: 0, count: 4 },
      { at: 100, count: 4 },
      { at: 300, count: 2 },
    ];
    // 10 in the window: 3 more need the first send (4) to leave it, at 1,020 ms.
    expect(rateWait(sent, 400, 3, w)).toBe(620);
    // 5 more need the second one gone as well.
    expect(rateWait(sent, 400, 5, w)).toBe(720);
    // A send exactly one window and margin old no longer counts, as the service drops it.
    expect(rateWait(sent, 1020, 4, w)).toBe(0);
  });

  it('more than the limit at once waits for an empty window, never for ever', () => {
    expect(rateWait([], 0, 50, w)).toBe(0);
    expect(rateWait([{ at: 0, count: 1 }], 10, 50, w)).toBe(1010);
  });

  it('the limiter keeps the window over what it admits: at most the limit in any window and margin', async () => {
    let now = 0;
    const admitted: number[] = [];
    const limiter = new RateLimiter(w, async (ms) => void (now += ms), () => now);
    for (let i = 0; i < 35; i++) await limiter.acquire(1).then(() => admitted.push(now));
    for (let i = 0; i + w.limit < admitted.length; i++) expect(admitted[i + w.limit]! - admitted[i]!).toBeGreaterThanOrEqual(w.windowMs + w.marginMs);
    // And no slower than that: the eleventh goes as soon as the first leaves the window.
    expect(admitted[10]).toBe(1020);
    expect(admitted[30]).toBe(3060);
  });
});
