// How long each instance has been in its current status: from the provider's own timestamps
// where it gives one for that status (Novita `lastStartedAt` for running, `lastStoppedAt` for
// stopped: `startedAt`/`stoppedAt`), else since this console first saw that status — labelled as
// such, since the instance may have been in it long before the page opened.

/** Provisioning or pending longer than this is flagged as stuck. */
export const STUCK_MS = 15 * 60_000;

const seen = new Map(); // "provider/id" → { status, at } (when this page first saw that status)

/**
 * `{ at, fromProvider, field? }`: when `inst` entered its current status as far as can be known.
 * Each call also notes the status, so calling it for every listed instance on every listing keeps
 * the "first seen" times.
 */
export function statusSince(inst, now = Date.now()) {
  const key = `${inst.provider}/${inst.id}`;
  let e = seen.get(key);
  if (!e || e.status !== inst.status) {
    e = { status: inst.status, at: now };
    seen.set(key, e);
  }
  const stamp = inst.status === "running" ? ["startedAt", inst.startedAt] : inst.status === "stopped" ? ["stoppedAt", inst.stoppedAt] : null;
  const t = stamp && stamp[1] ? Date.parse(stamp[1]) : NaN;
  if (Number.isFinite(t)) return { at: t, fromProvider: true, field: stamp[0] };
  return { at: e.at, fromProvider: false };
}

/** "failed", "stuck" (pending or provisioning longer than STUCK_MS) or null: what needs an operator's eye. */
export function attention(inst, since, now = Date.now()) {
  if (inst.status === "failed") return "failed";
  if ((inst.status === "provisioning" || inst.status === "pending") && now - since.at > STUCK_MS) return "stuck";
  return null;
}

/** Sign-out: the next session starts seeing afresh. */
export function forgetStatusSince() {
  seen.clear();
}
