/**
 * `npm run demo`: the main job end to end on this machine, with nothing but Node and npm.
 *
 * Starts three throwaway SSH hosts on 127.0.0.1 (OpenSSH sshd when installed, else an ssh2-server
 * host), makes an operator key in a temporary HOME, and runs the fleet program (examples/fleet)
 * through six narrated, checked steps. Uses the real `pulumi` CLI (Automation API, local file
 * backend) when it is on PATH, else the engine stand-in; it says which. Exit 0 only when every
 * check passed; the last line is the summary.
 */
import { runDemo } from "./flow";

if (require.main === module) {
  runDemo({ keep: process.env["KEYFLEET_DEMO_KEEP"] === "1" }).then(
    () => undefined,
    (e: unknown) => {
      console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
