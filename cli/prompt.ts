/**
 * Reading a secret value for `keyfleet set`: from piped standard input, or, when standard input is a
 * terminal, from a prompt that does not echo. A secret never comes from argv.
 */
import { fstatSync } from "node:fs";
import { KeyfleetError } from "../provider/errors";
import type { CliIo } from "./args";

/** Largest value accepted. */
export const MAX_VALUE_BYTES = 1024 * 1024;

/**
 * True when this process's standard input is a terminal. A pipe or a file (what a script gives) is
 * told by fstat, without building `process.stdin`, which loads node's net and stream code for a
 * pipe (start-up, issue 13 §4); only a character device is asked through `process.stdin`.
 */
export function stdinIsTty(): boolean {
  try {
    if (!fstatSync(0).isCharacterDevice()) return false;
  } catch {
    // no usable descriptor 0: let process.stdin decide
  }
  return process.stdin.isTTY === true;
}

/**
 * Reads one line from the terminal on stdin without echo (raw mode); backspace edits, Enter ends,
 * Ctrl-C aborts, Ctrl-D on an empty line ends with "".
 * @throws KeyfleetError `INTERRUPTED` on Ctrl-C, `VALUE_TOO_LARGE` beyond MAX_VALUE_BYTES
 */
export function promptHidden(prompt: string, io: CliIo): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt appears: a user (or a test) typing right after it must not be echoed.
  stdin.setRawMode(true);
  io.stderr(prompt);
  return new Promise<string>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, value?: string): void => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr("\n");
      if (err) reject(err);
      else resolve(value ?? "");
    };
    const onData = (chunk: Buffer): void => {
      for (const b of chunk) {
        if (b === 0x03)
          return done(
            new KeyfleetError("INTERRUPTED", "interrupted at the value prompt", { hint: "nothing was changed" }),
          );
        if (b === 0x0d || b === 0x0a || (b === 0x04 && buf.length === 0)) return done(null, buf.toString("utf8"));
        if (b === 0x7f || b === 0x08) {
          // drop the last UTF-8 character
          let n = buf.length - 1;
          while (n > 0 && ((buf[n] as number) & 0xc0) === 0x80) n--;
          buf = buf.subarray(0, Math.max(0, n));
          continue;
        }
        if (buf.length >= MAX_VALUE_BYTES)
          return done(
            new KeyfleetError("VALUE_TOO_LARGE", `the value is larger than ${MAX_VALUE_BYTES} bytes`, {
              hint: "pipe large values on stdin",
            }),
          );
        buf = Buffer.concat([buf, Buffer.of(b)]);
      }
    };
    stdin.resume();
    stdin.on("data", onData);
  });
}

/**
 * The value for `set`: a hidden prompt when stdin is a terminal, else all of stdin with one trailing
 * newline removed (unless `raw`).
 * @throws KeyfleetError `VALUE_ENCODING` for non-UTF-8 input, `VALUE_TOO_LARGE`, `INTERRUPTED`
 */
export async function readSecretValue(
  io: CliIo,
  label: string,
  o: { raw?: boolean; tty?: boolean } = {},
): Promise<string> {
  if (o.tty ?? stdinIsTty()) return promptHidden(`value for ${label} (input hidden): `, io);
  const bytes = await io.readStdin();
  if (bytes.length > MAX_VALUE_BYTES)
    throw new KeyfleetError("VALUE_TOO_LARGE", `the value on stdin is larger than ${MAX_VALUE_BYTES} bytes`, {
      hint: "sops values should be small; store a file reference instead",
    });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new KeyfleetError("VALUE_ENCODING", "the value on stdin is not valid utf-8", {
      hint: "pass text; encode binary values (e.g. base64) first",
      cause: e,
    });
  }
  return o.raw ? text : text.replace(/\r?\n$/, "");
}

/**
 * Asks a yes/no question on the terminal (stdin must be a TTY); true only for "y" or "yes".
 * @throws KeyfleetError `INTERRUPTED` when stdin ends before an answer
 */
export function confirm(question: string, io: CliIo): Promise<boolean> {
  const stdin = process.stdin;
  io.stderr(question);
  return new Promise<boolean>((resolve, reject) => {
    let line = "";
    const finish = (answer: string | null): void => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.pause();
      if (answer === null)
        reject(
          new KeyfleetError("INTERRUPTED", "no answer to the confirmation prompt", {
            hint: "nothing was changed; pass -y to skip the question",
          }),
        );
      else resolve(/^\s*y(es)?\s*$/i.test(answer));
    };
    const onData = (chunk: Buffer): void => {
      line += chunk.toString("utf8");
      const nl = line.indexOf("\n");
      if (nl >= 0) finish(line.slice(0, nl));
      else if (line.length > 1024) finish("");
    };
    const onEnd = (): void => finish(null);
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.resume();
  });
}
