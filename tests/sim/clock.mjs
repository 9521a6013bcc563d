// The sim clock: sim time = epoch + real elapsed time x speed + manual advances.
// Lifecycles are computed from it at read time, so no timers are needed.

export class Clock {
  /**
   * @param {number} epochMs sim time at creation (ms since Unix epoch)
   * @param {number} speed   sim ms per real ms (0 = frozen; only advance() moves it)
   * @param {() => number} realNow real monotonic ms source (injectable for tests)
   */
  constructor(epochMs, speed = 1, realNow = () => performance.now()) {
    this.realNow = realNow;
    this.anchorReal = realNow();
    this.anchorSim = epochMs;
    this.speed = speed;
  }

  /** Current sim time in ms since the Unix epoch (integer). */
  now() {
    return Math.floor(this.anchorSim + (this.realNow() - this.anchorReal) * this.speed);
  }

  /** Current sim time in whole Unix seconds. */
  nowSeconds() {
    return Math.floor(this.now() / 1000);
  }

  setSpeed(speed) {
    if (!(typeof speed === "number" && Number.isFinite(speed) && speed >= 0 && speed <= 1e6)) {
      throw new RangeError("speed must be a number between 0 and 1000000");
    }
    this.anchorSim = this.now();
    this.anchorReal = this.realNow();
    this.speed = speed;
  }

  advance(ms) {
    if (!(typeof ms === "number" && Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError("ms must be a non-negative number");
    }
    this.anchorSim += ms;
  }
}

/**
 * Timelines: every instance carries `timeline: [{at, status}]` sorted by `at` (sim ms). Its status
 * at time t is the last entry with at <= t. The pseudo-status GONE means "no longer exists".
 */
export const GONE = "__gone__";

export function statusAt(timeline, t) {
  let s = timeline[0].status;
  for (let i = 1; i < timeline.length; i++) {
    if (timeline[i].at <= t) s = timeline[i].status;
    else break;
  }
  return s;
}

/** Time at which `status` was (last) first reached at or before t, or undefined. */
export function reachedAt(timeline, status, t) {
  let at;
  for (const e of timeline) {
    if (e.at > t) break;
    if (e.status === status) at = e.at;
  }
  return at;
}

/** Replaces everything after `now` with a new sequence of [delayMs, status] steps from now. */
export function schedule(timeline, now, steps) {
  const kept = timeline.filter((e) => e.at <= now);
  let at = now;
  for (const [delay, status] of steps) {
    at = now + delay;
    kept.push({ at, status });
  }
  return kept;
}
