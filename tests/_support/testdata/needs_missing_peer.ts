// Run by peer_test.ts as a test file of its own: one test needing a program
// that no machine has.
import { ignoreWithout } from "../peer.ts";

Deno.test({
  name: "needs a program that is not installed",
  ignore: ignoreWithout("wiretest-no-such-peer"),
  fn() {
    new Deno.Command("wiretest-no-such-peer").outputSync();
  },
});
