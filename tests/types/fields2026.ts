// The 2026 instance fields (SF Compute pool / priority level / managed by / public IPv4, Novita
// billing mode and spot reclaim) as the published types describe them. Checked with
// `tsc --noEmit` like usage.ts: `@ts-expect-error` lines must NOT type-check.
import type { BillingMode, Instance, ManagedBy, PoolRef, PriorityLevel, SpotInfo, SpotStatus } from "gpufleet";

declare const inst: Instance;

// Every new field is optional, and typed.
const pool: PoolRef | undefined = inst.pool;
const poolId: string | undefined = inst.pool?.id;
const poolName: string | undefined = inst.pool?.name;
const level: PriorityLevel | undefined = inst.priorityLevel;
const managedBy: ManagedBy | undefined = inst.managedBy;
const managerKind: string | undefined = inst.managedBy?.kind;
const managerId: string | undefined = inst.managedBy?.id;
const publicIpv4: boolean | undefined = inst.publicIpv4;
const billing: BillingMode | undefined = inst.billingMode;
const spot: SpotInfo | undefined = inst.spot;
const spotStatus: SpotStatus | undefined = inst.spot?.status;
const reclaimAt: string | undefined = inst.spot?.reclaimAt;
console.log(pool, poolId, poolName, level, managedBy, managerKind, managerId, publicIpv4, billing, spot, spotStatus, reclaimAt);

// The documented words are offered (and checked) …
const levels: PriorityLevel[] = ["yield", "normal", "preferred", "critical"];
const modes: BillingMode[] = ["onDemand", "monthly", "spot"];
const spots: SpotStatus[] = ["running", "notified", "reclaiming", "terminated"];
const kinds: ManagedBy["kind"][] = ["deployment", "spot_deployment"];
// … and a word a provider adds tomorrow is still a valid value (it arrives as its string).
const tomorrow: PriorityLevel = "best_effort";
const newMode: BillingMode = "prepaid";
const newSpot: SpotStatus = "preempting";
console.log(levels, modes, spots, kinds, tomorrow, newMode, newSpot);

// Narrowing works on the known words.
if (inst.spot?.status === "notified" && inst.spot.reclaimAt !== undefined) {
  const msLeft: number = Date.parse(inst.spot.reclaimAt) - Date.now();
  console.log(msLeft);
}
switch (inst.billingMode) {
  case "spot":
  case "onDemand":
  case "monthly":
  case undefined:
    break;
  default: {
    const other: string = inst.billingMode;
    console.log(other);
  }
}

// @ts-expect-error: the pool is an object, not its id
const poolAsText: string | undefined = inst.pool;
// @ts-expect-error: a pool always has an id
const noId: PoolRef = { name: "h100" };
// @ts-expect-error: publicIpv4 is a boolean, not the address (that is `ip`)
const ipText: string | undefined = inst.publicIpv4;
// @ts-expect-error: reclaimAt is ISO text, not Unix seconds
const reclaimSeconds: number | undefined = inst.spot?.reclaimAt;
// @ts-expect-error: a spot status is a string
const spotNumber: SpotStatus = 1;
// @ts-expect-error: managedBy needs an id
const noManager: ManagedBy = { kind: "deployment" };
// @ts-expect-error: priorityLevel is not the seed-era integer priority
const numericPriority: PriorityLevel = 10;
console.log(poolAsText, noId, ipText, reclaimSeconds, spotNumber, noManager, numericPriority);
