export interface DiscoveryResult { identities: import("./types").AgeIdentity[]; report: string[] }
export async function discoverIdentities(): Promise<DiscoveryResult> { return { identities: [], report: [] }; }
