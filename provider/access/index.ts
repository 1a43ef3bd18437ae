/**
 * provider/access: who can read what. Recipient names and fingerprints, the recipient delta of a
 * file, the exposure of removed recipients, the audit log, and the preview's access change. Used by
 * the Pulumi resources and the CLI alike; needs no key and never sees a value.
 */
export { recipientDelta, type RecipientDelta } from "../age/text";
export {
  canonicalRecipientText,
  deriveRecipientName,
  fingerprinted,
  recipientFingerprint,
  recipientLabel,
  shortRecipient,
  sshComment,
  type FingerprintedRecipient,
  type NamedRecipient,
} from "./names";
export { computeExposure, exposureMessage, keyName, type Exposure, type ListedKey } from "./exposure";
export {
  appendAudit,
  auditEntry,
  namesFromAudit,
  readAudit,
  DEFAULT_AUDIT_LOG,
  type AuditDetails,
  type AuditEntry,
  type AuditFront,
  type AuditOperation,
} from "./audit-log";
export { computeAccessChange, formatAccessChange, hasAccessChange, type AccessChange } from "./access-change";
