// A real dnsmasq on a free loopback port for the DNS plugin's tests. It has
// no upstream servers, answers only the records given on its command line,
// and is killed and awaited on dispose. The addresses in its records are
// data in answers, never contacted.
import { freePort, ignoreWithout, spawnPeer } from "../../../tests/_support/peer.ts";
import { bindUdp } from "@wiretest/wiretest/unstable-udp";
import { encodeQuery } from "./dns_message.ts";

/** The `ignore` option of a test that needs dnsmasq (`apt-get install dnsmasq-base`). */
export function withoutDnsmasq(): boolean {
  return ignoreWithout("dnsmasq");
}

/** A running dnsmasq. */
export interface Dnsmasq extends AsyncDisposable {
  /** Its UDP port on 127.0.0.1. */
  port: number;
  /** `127.0.0.1:<port>`. */
  target: string;
}

/**
 * Starts dnsmasq with these records and waits until it answers a query.
 * dnsmasq listens on TCP and UDP, so the port must be free for both; a port
 * another test takes in between makes dnsmasq exit, and we try another.
 */
export async function startDnsmasq(): Promise<Dnsmasq> {
  for (let attempt = 1;; attempt++) {
    const port = freeTcpAndUdpPort();
    const peer = spawnPeer("dnsmasq", [
      "--no-daemon",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      "--conf-file=/dev/null",
      "--pid-file=",
      "--log-facility=-",
      "--address=/test.local/10.1.2.3",
      "--host-record=v6.test.local,fd00::5",
      "--txt-record=txt.test.local,hello world,second",
      "--mx-host=mail.test.local,mx.test.local,10",
    ]);
    const exited = peer.process.status.then(() => "exited" as const);
    try {
      const result = await Promise.race([waitForAnswer(port), exited]);
      if (result === "exited") throw new Error(`dnsmasq exited at start on port ${port}`);
    } catch (error) {
      await peer[Symbol.asyncDispose]();
      if (attempt < 5) continue;
      throw error;
    }
    return {
      port,
      target: `127.0.0.1:${port}`,
      [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose](),
    };
  }
}

function freeTcpAndUdpPort(): number {
  for (;;) {
    const port = freePort("udp");
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // Taken on TCP: pick another.
    }
  }
}

async function waitForAnswer(port: number): Promise<"answered"> {
  using socket = bindUdp();
  const query = encodeQuery({ id: 1, name: "test.local", type: "A" });
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      await socket.send(query, { hostname: "127.0.0.1", port }, { timeout: 1000 });
      await socket.receive({ timeout: 200 });
      return "answered";
    } catch (error) {
      if (Date.now() > until) {
        throw new Error(`Cannot reach dnsmasq on 127.0.0.1:${port} within 20 s`, { cause: error });
      }
    }
  }
}
