/**
 * The `values` source rule (issue 10 §2): in an inventory, `{ env: VAR }` with VAR set but empty is
 * treated as unset: the key is not managed and the sops file keeps its value (never an empty string
 * pushed to hosts). A non-empty variable is managed.
 */
import { describe, expect, it } from "vitest";
import { fleetArgsFrom } from "../../../examples/fleet/inventory";

const inv = {
  operators: { alice: "age1x" },
  files: { app: { path: "secrets/app.yaml", values: { DB_PASSWORD: { env: "APP_DB_PASSWORD" } } } },
  hosts: {},
};

describe("inventory values from the environment", () => {
  it("a variable set but empty leaves the key unmanaged", () => {
    const args = fleetArgsFrom(inv as never, { file: "/nonexistent/fleet.yaml", env: { APP_DB_PASSWORD: "" } });
    expect(args.files["app"]).toEqual({ path: "secrets/app.yaml" });
  });
  it("an unset variable leaves it unmanaged too; a set one is managed", () => {
    expect(fleetArgsFrom(inv as never, { file: "/nonexistent/fleet.yaml", env: {} }).files["app"]).toEqual({
      path: "secrets/app.yaml",
    });
    const set = fleetArgsFrom(inv as never, { file: "/nonexistent/fleet.yaml", env: { APP_DB_PASSWORD: "pw" } }).files[
      "app"
    ];
    expect(Object.keys((set?.values ?? {}) as object)).toEqual(["DB_PASSWORD"]);
  });
});
