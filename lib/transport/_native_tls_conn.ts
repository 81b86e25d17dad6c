// A Conn over Deno's own TLS client: reads and writes go straight to the
// runtime, as on plain TCP, with no node streams in between.
import { DenoStreamConn } from "./conn.ts";
import type { TimingMarks } from "./types.ts";
import type { NativeTlsConn, NativeTlsInfo } from "./native_tls_conn.ts";

/** The {@linkcode NativeTlsConn} returned by `connectNativeTls` and `startNativeTls`. */
export class DenoNativeTlsConn extends DenoStreamConn implements NativeTlsConn {
  readonly tls: NativeTlsInfo;

  constructor(conn: Deno.TlsConn, tls: NativeTlsInfo, timings: TimingMarks) {
    super(conn, "tls", timings);
    this.tls = tls;
  }

  // Deno's TLS connection owns the socket and has no socket options: they
  // are set on the TCP connection before the upgrade.
  override setNoDelay(_enable?: boolean): void {
    throw new Deno.errors.NotSupported(
      "Cannot set TCP_NODELAY: Deno's TLS connection does not expose its socket; set it before the handshake",
    );
  }

  override setKeepAlive(_enable?: boolean): void {
    throw new Deno.errors.NotSupported(
      "Cannot set SO_KEEPALIVE: Deno's TLS connection does not expose its socket; set it before the handshake",
    );
  }
}
