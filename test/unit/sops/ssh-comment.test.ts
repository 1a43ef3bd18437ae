// An ssh-ed25519 recipient given with a comment: sops records the trimmed string as given, comment
// included; keyfleet does the same but compares recipients by key, so the same key with or without
// its comment is never added, removed or rotated.
import { randomBytes } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import {
  SshEd25519Identity,
  generateX25519,
  parseIdentities,
  parseRecipient,
  recipientText,
} from "../../../provider/age/index.js";
import {
  decrypt,
  encrypt,
  readMetadata,
  rotate,
  updateRecipients,
  type SopsFormat,
} from "../../../provider/sops/index.js";

const seed = randomBytes(32);
const host = new SshEd25519Identity(seed, ed25519.getPublicKey(seed), "test host key");
const BARE = host.recipient().toString();
const WITH = `${BARE} web-1`;
/** Emitted plaintext as text (the binary store emits bytes). */
const text = (v: string | Uint8Array): string => (typeof v === "string" ? v : Buffer.from(v).toString("utf8"));
const PLAIN: Record<SopsFormat, string> = {
  yaml: "a: 1\nb: two\n",
  json: '{\n\t"a": 1,\n\t"b": "two"\n}\n',
  dotenv: "A=1\nB=two\n",
  ini: "[s]\na = 1\nb = two\n",
  binary: "raw\nbytes",
};

describe("parseRecipient keeps an ssh key's text", () => {
  it("text is the trimmed line, toString the canonical key; age1 and bare keys have no text", () => {
    const r = parseRecipient(`  ${WITH} \n`);
    expect(r.toString()).toBe(BARE);
    expect(r.text).toBe(WITH);
    expect(recipientText(r)).toBe(WITH);
    expect(parseRecipient(BARE).text).toBeUndefined();
    expect(recipientText(parseRecipient(BARE))).toBe(BARE);
    const a = generateX25519().recipient;
    expect(parseRecipient(` ${a} `).text).toBeUndefined();
    expect(recipientText(parseRecipient(a))).toBe(a);
    // known_hosts form: sops would not accept the prefixed line, so only the canonical key is recorded
    expect(parseRecipient(`web-1.example ${BARE}`).text).toBeUndefined();
    expect(parseRecipient(`web-1.example ${BARE}`).toString()).toBe(BARE);
  });
});

describe("sops metadata with ssh comments", () => {
  const other = generateX25519();
  const ra = parseRecipient(other.recipient);
  const ia = parseIdentities(other.identity, "a");
  for (const fmt of Object.keys(PLAIN) as SopsFormat[]) {
    it(`${fmt}: encrypt records the comment; same key with or without it is a no-op; removal keeps it`, async () => {
      const enc = await encrypt(PLAIN[fmt], { format: fmt, recipients: [parseRecipient(WITH), ra] });
      expect(readMetadata(enc, fmt).recipients).toEqual([WITH, other.recipient]);
      expect(text((await decrypt(enc, { format: fmt, identities: [host] })).emit())).toBe(PLAIN[fmt]);
      for (const same of [BARE, WITH, `${BARE} another-comment`]) {
        const up = await updateRecipients(enc, {
          format: fmt,
          identities: [host],
          recipients: [parseRecipient(same), ra],
        });
        expect(up).toEqual({ text: enc, added: [], removed: [], rotated: false });
      }
      // adding a second copy of the key (other comment) in the same list adds nothing either
      const dup = await updateRecipients(enc, {
        format: fmt,
        identities: [host],
        recipients: [parseRecipient(WITH), parseRecipient(BARE), ra],
      });
      expect(dup.text).toBe(enc);
      // removing the age1 recipient rotates; the ssh entry is recorded as the new list gives it
      const rm = await updateRecipients(enc, { format: fmt, identities: [host], recipients: [parseRecipient(WITH)] });
      expect(rm).toMatchObject({ removed: [other.recipient], added: [], rotated: true });
      expect(readMetadata(rm.text, fmt).recipients).toEqual([WITH]);
      await expect(decrypt(rm.text, { format: fmt, identities: ia })).rejects.toThrow();
      // rotate with the file's own recipients keeps the text as written
      const rot = await rotate(enc, { format: fmt, identities: ia });
      expect(readMetadata(rot, fmt).recipients).toEqual([WITH, other.recipient]);
      expect(text((await decrypt(rot, { format: fmt, identities: [host] })).emit())).toBe(PLAIN[fmt]);
    });
  }
  it("adding an ssh key with a comment keeps existing entries and records the comment", async () => {
    const enc = await encrypt(PLAIN.yaml, { format: "yaml", recipients: [ra] });
    const up = await updateRecipients(enc, { format: "yaml", identities: ia, recipients: [ra, parseRecipient(WITH)] });
    expect(up).toMatchObject({ added: [WITH], removed: [], rotated: false });
    // existing lines untouched: every line of the old file is still there
    const upLines = new Set(up.text.split("\n"));
    expect(enc.split("\n").filter((l) => !upLines.has(l))).toEqual([]);
    expect(up.text).toContain(`recipient: ${WITH}`);
    expect(readMetadata(up.text, "yaml").recipients).toEqual([other.recipient, WITH]);
    expect(text((await decrypt(up.text, { format: "yaml", identities: [host] })).emit())).toBe(PLAIN.yaml);
  });
});
