/**
 * The Fleet's pure plan, re-exported for sdk users: it lives in provider/fleet/plan.ts, the
 * Pulumi-free core that `keyfleet push` and the Fleet component both call.
 */
export * from "../provider/fleet/plan";
