// A real dnsmasq on a free loopback port for the DNS plugin's tests. It has
// no upstream servers, answers only the records given on its command line,
// and is killed and awaited on dispose. The addresses in its records are
// data in answers, never contacted.
import { freePort, hasProgram, spawnPeer } from "../../../tests/_support/peer.ts";
import { bindUdp } from "@wiretest/wiretest/transport";
import { encodeQuery } from "./dns_message.ts";

/** Whether dnsmasq is installed (tests skip with a reason otherwise). */
export const hasDnsmasq: boolean = hasProgram("dnsmasq");

if (!hasDnsmasq) {
  console.error("dnsmasq is not on PATH (apt-get install dnsmasq-base): skipping the DNS tests");
}

/** A running dnsmasq. */
export interface Dnsmasq extends AsyncDisposable {
  /** Its UDP port on 127.0.0.1. */
  port: number;
  /** `127.0.0.1:<port>`. */
  target: string;
}

/** Starts dnsmasq with these records and waits until it answers a query. */
export async function startDnsmasq(): Promise<Dnsmasq> {
  const port = freePort("udp");
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
  try {
    await waitForAnswer(port);
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return {
    port,
    target: `127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose](),
  };
}

async function waitForAnswer(port: number): Promise<void> {
  using socket = bindUdp();
  const query = encodeQuery({ id: 1, name: "test.local", type: "A" });
  for (let attempt = 1;; attempt++) {
    try {
      await socket.send(query, { hostname: "127.0.0.1", port }, { timeout: 1000 });
      await socket.receive({ timeout: 100 });
      return;
    } catch (error) {
      if (attempt >= 100) {
        throw new Error(`Cannot reach dnsmasq on 127.0.0.1:${port} within 100 tries`, {
          cause: error,
        });
      }
    }
  }
}
