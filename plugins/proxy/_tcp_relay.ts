// The TCP side of a proxy: accepts clients, dials the upstream for each and
// relays through a TcpLink. (node:net, for the resets reset_peer needs: see
// _tcp_link.ts. serveConnections takes Deno.Conn listeners, so the accept
// loop is node:net's own. A proxy has no idle timeout of its own, as silence
// may be what a test is about; it has a connection cap, as every server.)
import net from "node:net";
import { type LinkHost, TcpLink } from "./_tcp_link.ts";
import type { Relay, RelayOptions } from "./_relay.ts";

/** Listens on `options.listen` and relays each connection to `options.upstream`. */
export async function startTcpRelay(host: LinkHost, options: RelayOptions): Promise<Relay> {
  const links = new Set<TcpLink>();
  // Clients whose upstream is still being dialled, by their upstream socket.
  const pending = new Map<net.Socket, net.Socket>();
  const counters = host.counters;
  let index = 0;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (options.maxConnections !== undefined && counters.active >= options.maxConnections) {
      // Over the cap: closed before an upstream is dialled, and counted.
      counters.rejected++;
      client.destroy();
      return;
    }
    counters.connections++;
    counters.active++;
    client.setNoDelay(true);
    const upstream = net.connect({
      host: options.upstream.hostname,
      port: options.upstream.port,
      allowHalfOpen: true,
    });
    pending.set(upstream, client);
    const refused = () => {
      // toxiproxy closes the client when the upstream cannot be reached.
      pending.delete(upstream);
      counters.upstream_errors++;
      counters.active--;
      client.destroy();
    };
    // A client gone while its upstream is dialled: stop dialling.
    client.on("close", () => {
      if (pending.delete(upstream)) {
        counters.active--;
        upstream.destroy();
      }
    });
    client.on("error", () => upstream.destroy());
    upstream.once("error", refused);
    upstream.once("connect", () => {
      pending.delete(upstream);
      upstream.off("error", refused);
      upstream.setNoDelay(true);
      const link = new TcpLink(client, upstream, host, options.seed, index++);
      links.add(link);
      link.finished.then(() => {
        links.delete(link);
        counters.active--;
      });
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.listen.hostname, port: options.listen.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    listen: { transport: "tcp", hostname: address.address, port: address.port },
    io: "deno",
    sync: () => {
      for (const link of links) link.sync();
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Destroying a socket mid-connect emits no error: end both sides here.
      for (const [upstream, client] of [...pending]) {
        upstream.destroy();
        client.destroy(); // its "close" counts it out
      }
      const finished = [...links].map((link) => link.finished);
      for (const link of links) link.destroy();
      await Promise.all([closed, ...finished]);
    },
  };
}
