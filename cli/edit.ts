/**
 * `keyfleet edit FILE` (and bare `keyfleet FILE`): decrypt into a private temp file, run the user's
 * editor, and re-encrypt what changed, as `sops edit` does, more safely:
 * - only changed values are re-encrypted, under the same data key; untouched values and comments
 *   keep their exact ENC strings (provider/sops resealDecrypted, the path `set` uses); keys, order
 *   and comments follow the edit; new mac and lastmodified;
 * - unchanged text writes nothing; text that does not parse goes back to the editor with the error;
 * - the write is atomic, and refused when FILE changed while the editor was open (the edit is kept);
 * - an audit line names the keys added, changed and removed, never a value;
 * - a FILE that does not exist starts from a short example and is encrypted to the recipients of
 *   its `.sops.yaml` creation rule.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { isKeyfleetError, KeyfleetError } from "../provider/errors";
import { describeHolder, fileVersion, textVersion, withFileLock } from "../provider/fs/lock";
import { decrypt, encrypt, resealDecrypted, storeFor, type DecryptedFile, type SopsFormat } from "../provider/sops";
import { valueBytes } from "../provider/sops/cipher";
import type { Tree } from "../provider/sops/tree";
import { forEachLeaf } from "../provider/sops/walk";
import type { CliIo, ParsedArgs } from "./args";
import { writeLogged } from "./audit-ahead";
import type { CliChange } from "./audit-trail";
import { editorCommand } from "./editor";
import { editSession, EditorError, type ParseOutcome } from "./edit-session";
import { EXIT, sopsVerb } from "./exit-codes";
import { INPUT_TYPE_FLAG, positionals, readInput, resolveFormat, writeOutput } from "./files";
import { explainingIdentities, loadIdentities } from "./identities";
import { ruleRecipients } from "./recipients";

/** What a new file starts with, per format: short, and obviously an example. */
export const NEW_FILE_EXAMPLE: Record<SopsFormat, string> = {
  yaml: "# a new sops file: replace this example with your secrets, then save and quit\nexample_key: example_value\nexample_map:\n    nested_key: nested_value\n",
  json: '{\n\t"example_key": "example_value"\n}',
  dotenv: "# a new sops file: replace this example with your secrets, then save and quit\nEXAMPLE_KEY=example_value\n",
  ini: "; a new sops file: replace this example with your secrets, then save and quit\n[example_section]\nexample_key = example_value\n",
  binary: "a new sops file: replace this text with your secret, then save and quit\n",
};

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/**
 * Under the file's lock (provider/fs/lock, as every keyfleet writer), writes `out` atomically unless
 * `file` is no longer the version read before the editor opened (compare-and-swap), with `change`
 * logged. False when it changed: nothing was written or logged.
 */
async function writeIfUnchanged(
  file: string,
  expected: string | null,
  out: string,
  io: CliIo,
  change: CliChange,
): Promise<boolean> {
  return withFileLock(
    file,
    async () => {
      if (fileVersion(file) !== expected) return false;
      // the audit entry is recorded ahead of the write (cli/audit-ahead.ts)
      await writeLogged([{ change, before: expected, after: textVersion(out) }], () => writeOutput(file, out));
      return true;
    },
    {
      command: "keyfleet edit",
      onWait: (h) =>
        io.stderr(`keyfleet: waiting for ${h ? describeHolder(h) : "another writer"} to finish with ${file}\n`),
    },
  );
}

/** The audit change of a saved edit: keys added, changed and removed (never values). */
function editChange(file: string, isNew: boolean, k: KeyLists): CliChange {
  return {
    file,
    operation: isNew ? "create" : "set-values",
    keysChanged: [...k.added, ...k.changed],
    keysAdded: k.added,
    keysRemoved: k.removed,
  };
}

/** Leaf key name → canonical typed value (never printed), for the added/changed/removed lists. */
function leafMap(tree: Tree): Map<string, string> {
  const m = new Map<string, string>();
  forEachLeaf(tree, (s, path, doc) => {
    const { bytes, type } = valueBytes(s.value as Exclude<typeof s.value, null>);
    m.set((doc ? `[${doc}].` : "") + path.join("."), `${type}:${sha256(bytes)}`);
  });
  return m;
}

/** Key names added, changed and removed between two plaintext trees. */
export function keyChanges(before: Tree, after: Tree): KeyLists {
  const a = leafMap(before);
  const b = leafMap(after);
  const added: string[] = [];
  const changed: string[] = [];
  for (const [k, v] of b) {
    const old = a.get(k);
    if (old === undefined) added.push(k);
    else if (old !== v) changed.push(k);
  }
  const removed = [...a.keys()].filter((k) => !b.has(k));
  return { added, changed, removed };
}

/** Bytes of a plaintext emission. */
function bytesOf(x: string | Uint8Array): Buffer {
  return typeof x === "string" ? Buffer.from(x, "utf8") : Buffer.from(x);
}

/** Recipients and rules for a new file, or the refusal with its fix. */
function newFileTarget(file: string): ReturnType<typeof ruleRecipients> {
  try {
    return ruleRecipients(file);
  } catch (e) {
    if (isKeyfleetError(e) && e.code === "NO_CONFIG") {
      throw new KeyfleetError(
        "NO_CONFIG",
        `${file} does not exist and no .sops.yaml creation rule says whom to encrypt it to: ${e.message.split(";")[0]}`,
        {
          file,
          hint: `add a creation rule whose path_regex matches ${file} with age: recipients, or encrypt a plaintext file with keyfleet encrypt --age age1… first`,
        },
      );
    }
    throw e;
  }
}

/** Exit status and message for a session that ended without a write. */
function reportNoWrite(io: CliIo, file: string, kind: "unchanged" | "abandoned", isNew: boolean): number {
  if (kind === "unchanged") {
    io.stderr(
      isNew ? `keyfleet: no changes; ${file} was not created\n` : `keyfleet: no changes; ${file} left as it was\n`,
    );
    return EXIT.OK;
  }
  io.stderr(
    `keyfleet: edit given up after a parse error; ${isNew ? `${file} was not created` : `${file} left as it was`}\n`,
  );
  return EXIT.FILE_NOT_MODIFIED;
}

/** Key names a save reports. */
interface KeyLists {
  added: string[];
  changed: string[];
  removed: string[];
}

/** An edit ready to write: the encrypted text and the key lists, or "same" when the data did not change. */
type Prepared = { out: string; keys: KeyLists } | "same";

/**
 * Parses edited plaintext with the format's store and encrypts it: for an existing file with
 * resealDecrypted (same data key, untouched ENC strings kept), for a new one with the rule's
 * recipients. Every rejection goes back to the editor (never to the terminal: it may quote the text).
 */
function prepare(
  format: SopsFormat,
  file: string,
  from: { d: DecryptedFile } | { target: ReturnType<typeof ruleRecipients> },
): (bytes: Buffer) => Promise<ParseOutcome<Prepared>> {
  const store = storeFor(format);
  const oldPlain = "d" in from ? bytesOf(from.d.emit()) : undefined;
  return async (bytes) => {
    try {
      const input = format === "binary" ? new Uint8Array(bytes) : bytes.toString("utf8");
      const p = store.parsePlain(input, file);
      if (p.meta)
        return { ok: false, error: 'the text has sops metadata (a top-level "sops" key or sops_ lines); remove it' };
      if (format !== "binary" && !bytes.toString("utf8").trim())
        return { ok: false, error: "the text is empty; to delete the file, remove it with git rm" };
      if ("d" in from) {
        // the same data in other words (spacing, quoting): nothing to write
        if (oldPlain && bytesOf(store.emitPlain(p.tree)).equals(oldPlain)) return { ok: true, value: "same" };
        const keys = keyChanges(from.d.tree, p.tree);
        return { ok: true, value: { out: resealDecrypted(from.d, format, p.tree, { file }), keys } };
      }
      const keys = { added: [...leafMap(p.tree).keys()], changed: [], removed: [] };
      const rules = from.target.lookup.rule.rules;
      const out = await encrypt(input, {
        format,
        recipients: from.target.recipients,
        ...(rules ? { rules } : {}),
        file,
      });
      return { ok: true, value: { out, keys } };
    } catch (e) {
      if (!isKeyfleetError(e)) throw e;
      return { ok: false, error: e.message };
    }
  };
}

/** The edit verb. */
export const editVerb = sopsVerb(
  {
    name: "edit",
    summary: "edit a sops file in $EDITOR; only changed values are re-encrypted (as sops edit)",
    usage: "[--input-type FORMAT] FILE",
    details:
      "Decrypts FILE into a 0600 temp file in a private directory (on tmpfs when $XDG_RUNTIME_DIR or\n" +
      "/dev/shm is one) and opens it in $SOPS_EDITOR, else $VISUAL, else $EDITOR, else vi. On save:\n" +
      "changed values are re-encrypted with the same data key, untouched ones keep their exact\n" +
      "ciphertext, and the keys added, changed and removed (never values) go to .keyfleet/audit.jsonl.\n" +
      "Text that does not parse reopens with the error on top; quit without saving to give up.\n" +
      "A FILE that does not exist starts from an example and is encrypted to its .sops.yaml rule.\n" +
      "`keyfleet FILE` means `keyfleet edit FILE`.\n" +
      "Exit codes: 0 saved or no change, 200 given up after a parse error, 201 the editor failed or\n" +
      "exited non-zero, 1 FILE changed while the editor was open (the edit is kept; its path is printed),\n" +
      "61 a new FILE with no creation rule, 129/130/143 stopped by a signal. Nothing is written on error.\n" +
      "example: EDITOR=nano keyfleet edit secrets/app.yaml",
    flags: { "input-type": INPUT_TYPE_FLAG },
  },
  async (args: ParsedArgs, io: CliIo): Promise<number> => {
    const [file] = positionals("edit", args.positionals, 1, "FILE") as [string];
    const format = resolveFormat("edit", args.flags["input-type"], file);
    const editor = editorCommand(io.env).argv;
    const isNew = !existsSync(file);
    let before: string | null = null;
    let d: DecryptedFile | undefined;
    let initial: Buffer;
    let target: ReturnType<typeof ruleRecipients> | undefined;
    if (!isNew) {
      const raw = readInput(file);
      before = textVersion(raw);
      const text = raw.toString("utf8");
      const ids = await loadIdentities(io);
      d = await explainingIdentities(file, ids, () =>
        decrypt(text, { format, identities: ids.identities, file, report: ids.report }),
      );
      initial = bytesOf(d.emit());
    } else {
      target = newFileTarget(file);
      initial = Buffer.from(NEW_FILE_EXAMPLE[format], "utf8");
    }
    try {
      const end = await editSession<Prepared, KeyLists | "same">({
        initial,
        name: basename(file),
        editor,
        env: io.env,
        text: format !== "binary",
        onDisk: (dir) =>
          io.stderr(
            `keyfleet: no tmpfs found ($XDG_RUNTIME_DIR, /dev/shm); the plaintext is on disk in ${dir} (mode 0700) until the editor exits\n`,
          ),
        parse: prepare(format, file, d ? { d } : { target: target as ReturnType<typeof ruleRecipients> }),
        async save(prepared) {
          if (prepared === "same") return { ok: true, result: "same" };
          if (!(await writeIfUnchanged(file, before, prepared.out, io, editChange(file, isNew, prepared.keys))))
            return { ok: false };
          return { ok: true, result: prepared.keys };
        },
      });
      if (end.kind === "unchanged" || end.kind === "abandoned") return reportNoWrite(io, file, end.kind, isNew);
      if (end.kind === "conflict") {
        io.stderr(
          `keyfleet: ${file} ${isNew ? "was created" : "changed"} while the editor was open; nothing was written\n`,
        );
        io.stderr(
          `keyfleet: your edited text (plaintext) is kept in ${end.kept} (mode 0600); merge it with keyfleet edit ${file}, then delete it\n`,
        );
        return EXIT.GENERIC;
      }
      if (end.result === "same") return reportNoWrite(io, file, "unchanged", false);
      const k = end.result;
      const parts = [
        k.added.length && `${k.added.length} added`,
        k.changed.length && `${k.changed.length} changed`,
        k.removed.length && `${k.removed.length} removed`,
      ].filter(Boolean);
      io.stderr(
        `keyfleet: ${isNew ? "created" : "saved"} ${file}${parts.length ? ` (${parts.join(", ")})` : " (comments or order only)"}\n`,
      );
      return EXIT.OK;
    } catch (e) {
      if (e instanceof EditorError && e.exitCode !== undefined) {
        io.stderr(`keyfleet: ${e.message}\n`);
        return e.exitCode;
      }
      throw e;
    }
  },
);
