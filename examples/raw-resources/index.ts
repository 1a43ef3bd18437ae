/**
 * keyfleet's resources used one by one, with a `@pulumi/command` `remote.Command` that restarts the
 * service whenever the env file's content changed (its `triggers` hold the HostEnv's keyed
 * `contentDigest`, so a change to a value the host does not take restarts nothing).
 *
 * Note: `@pulumi/command` does not pin host keys. The env file itself only ever goes to the pinned
 * host (HostEnv refuses any other key); the restart runs after it (`dependsOn`). Where you do not
 * already use @pulumi/command, prefer HostEnv's own `restartUnits` / `onChange`, which run on the
 * pinned connection.
 *
 * @pulumi/command is a plugin provider: this program needs the real `pulumi` CLI (the engine
 * stand-in runs dynamic providers only). Its wiring is tested with setMocks.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { HostKey, Recipient, SecretFile } from "../../sdk";
import { HostEnv } from "../../sdk/host-env";

const config = new pulumi.Config();
const host = config.require("host");
const port = config.getNumber("port") ?? 22;
const user = config.get("user") ?? "deploy";
const privateKey = config.requireSecret("sshPrivateKey");

const alice = new Recipient("alice", { publicKey: config.require("operatorKey") });
const vps = new HostKey("vps-1", { host, port, expectedFingerprint: config.require("hostFingerprint") });

/** The sops file in the repo; set its values with `keyfleet set secrets/app.yaml DB_PASSWORD`. */
const app = new SecretFile("app", { path: config.get("secretsFile") ?? "secrets/app.yaml", recipients: [alice, vps] });

/** One connection object serves both: @pulumi/command's shape, plus the pinned host key for HostEnv. */
const connection = { host, port, user, privateKey };

const env = new HostEnv("myapp-env", {
  connection: { ...connection, hostKey: vps.publicKey },
  path: "/etc/myapp/app.env",
  format: "systemd",
  sources: [{ file: app, keys: ["DB_PASSWORD", "API_TOKEN"] }],
  env: { LOG_LEVEL: "info" },
});

const restart = new command.remote.Command(
  "restart-myapp",
  {
    connection,
    create: "sudo systemctl restart myapp.service",
    triggers: [env.contentDigest],
  },
  { dependsOn: [env] },
);

/** Who can decrypt the file. */
export const recipients = app.recipientLabels;
/** Env names on the host (names only). */
export const envKeys = env.keyNames;
/** The restart command's stdout. */
export const restartOutput = restart.stdout;
