/**
 * keyfleet: sops + age files as Pulumi resources, SSH host keys as recipients.
 */
// first: a clear error when the optional peer dependency @pulumi/pulumi is missing
import "./pulumi-peer";
export { PulumiPeerMissingError } from "./pulumi-peer";
export { Recipient, type RecipientArgs } from "./recipient";
export { HostKey, type HostKeyArgs } from "./host-key";
export { SecretFile, type SecretFileArgs } from "./secret-file";
export {
  HostEnv,
  selectedDigests,
  hostEnvArgsSchema,
  type HostEnvArgs,
  type HostEnvConnectionArgs,
  type HostEnvSource,
} from "./host-env";
export { type RecipientLike } from "./recipients";
export {
  accessChangeOnDisk,
  accessSummary,
  computeAccessChange,
  formatAccessChange,
  type AccessChange,
} from "./access-log";
export { recipientArgsSchema, hostKeyArgsSchema, secretFileArgsSchema } from "./schemas";
export { type NamedRecipient, type FingerprintedRecipient } from "../provider/access/names";
export { type Exposure } from "../provider/access/exposure";
export { type AuditEntry, DEFAULT_AUDIT_LOG } from "../provider/access/audit-log";
export {
  Fleet,
  type FleetArgs,
  type FleetHost,
  type FleetFile,
  type FleetEnvFile,
  type FleetEnvSource,
  type FleetExposure,
  planFleet,
  formatAccessMatrix,
  FleetPlanError,
  type FleetPlan,
} from "./fleet";
