// The `node:tls` TLS server behind `listenTls({ tlsServer: "node" })`: TCP
// accepted by our own listener, the TLS session run by `node:tls` over a
// Duplex on that connection (as the client does, see _node_tls_conn.ts).
// Closing a connection closes its TCP socket at once, mid-handshake or not;
// Deno.listenTls kept such sockets open until the client left.
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { ConnectionError } from "../errors.ts";
import { connDuplex, NodeTlsConn, ReadGate, toTlsNetError } from "./_node_tls_conn.ts";
import type { TlsInfo } from "./tls_conn.ts";
import type { Address, Conn, IoOptions, Listener } from "./types.ts";

/** What the node:tls server needs besides the TCP listener. */
export interface NodeTlsServerInit {
  cert: string;
  key: string;
  alpnProtocols?: string[];
  /** The address, for errors. */
  where: string;
}

/**
 * Builds the secure context once per listener. Deno's `createSecureContext`
 * does not parse the PEM, so the certificate and key are checked here: a bad
 * one fails at listen, as with Deno.listenTls, not at every handshake.
 */
export function nodeSecureContext(init: NodeTlsServerInit): SecureContext {
  let detail: string | undefined;
  let cause: unknown;
  try {
    const leaf = new X509Certificate(init.cert);
    if (!leaf.checkPrivateKey(createPrivateKey(init.key))) {
      detail = "the private key does not match the certificate";
    }
  } catch (error) {
    detail = `the certificate or key cannot be used: ${(error as Error).message}`;
    cause = error;
  }
  if (detail !== undefined) {
    throw new ConnectionError({
      code: "tls",
      operation: "listen",
      address: init.where,
      detail,
      cause,
    });
  }
  try {
    return createSecureContext({ cert: init.cert, key: init.key });
  } catch (error) {
    throw toTlsNetError(error, "listen", init.where);
  }
}

/** A TLS listener: TCP from `tcp`, TLS by `node:tls`. */
export class NodeTlsListener implements Listener {
  readonly transport = "tls" as const;
  #tcp: Listener;
  #context: SecureContext;
  #alpn: string[] | undefined;
  #closed = false;

  constructor(tcp: Listener, context: SecureContext, alpnProtocols?: string[]) {
    this.#tcp = tcp;
    this.#context = context;
    this.#alpn = alpnProtocols;
  }

  get addr(): Address {
    return this.#tcp.addr;
  }

  /**
   * Accepts the next TCP connection and starts the server handshake on it;
   * like Deno's listener, it does not wait for the handshake (the first
   * read or write does), so a silent client cannot hold up `accept`.
   */
  async accept(options?: IoOptions): Promise<Conn> {
    const tcp = await this.#tcp.accept(options);
    const gate = new ReadGate();
    const info: TlsInfo = {
      protocol: "unknown",
      cipher: "unknown",
      alpnProtocol: null,
      authorized: false,
    };
    let socket: TLSSocket;
    try {
      socket = new TLSSocket(connDuplex(tcp, gate), {
        isServer: true,
        secureContext: this.#context,
        ALPNProtocols: this.#alpn,
      });
    } catch (error) {
      tcp.close();
      throw toTlsNetError(error, "accept", String(tcp.remoteAddr));
    }
    socket.once("secure", () => {
      const alpn = socket.alpnProtocol;
      info.protocol = socket.getProtocol() ?? "unknown";
      info.cipher = socket.getCipher()?.standardName ?? socket.getCipher()?.name ?? "unknown";
      info.alpnProtocol = typeof alpn === "string" ? alpn : null;
    });
    const { connectStart, connectEnd } = tcp.timings;
    return new NodeTlsConn(socket, {
      tls: info,
      timings: { connectStart, connectEnd },
      underlying: tcp,
      gate,
    });
  }

  close(): void {
    this.#closed = true;
    this.#tcp.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
