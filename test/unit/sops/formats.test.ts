// SOPS_FORMATS is the one list: the SDK's zod enum, the CLI's and the provider's checks derive from it.
import { describe, expect, it } from "vitest";
import { isSopsFormat, SOPS_FORMATS, sopsFormatList, storeFor } from "../../../provider/sops";
import { secretFileArgsSchema } from "../../../sdk/schemas";
import { FORMATS as CLI_FORMATS } from "../../../cli/files";
import { FORMATS as PROVIDER_FORMATS } from "../../../provider/resources/secret-file-inputs";

describe("SOPS_FORMATS", () => {
  it("lists the five formats, each with a store", () => {
    expect([...SOPS_FORMATS]).toEqual(["yaml", "json", "dotenv", "ini", "binary"]);
    for (const f of SOPS_FORMATS) expect(typeof storeFor(f).parseEncrypted).toBe("function");
    expect(sopsFormatList()).toBe("yaml, json, dotenv, ini or binary");
  });
  it("is what the zod schema, the CLI and the provider accept", () => {
    expect(secretFileArgsSchema.shape.format.unwrap().options).toEqual([...SOPS_FORMATS]);
    expect(CLI_FORMATS).toBe(SOPS_FORMATS);
    expect(PROVIDER_FORMATS).toBe(SOPS_FORMATS);
    expect(isSopsFormat("yaml")).toBe(true);
    for (const bad of ["toml", "YAML", "", 1, undefined]) expect(isSopsFormat(bad)).toBe(false);
  });
});
