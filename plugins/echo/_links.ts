// One client connection ("link") per transport, each able to do one echo
// round trip: send the payload, read exactly as many bytes back, count the
// ones that differ.
import { type Conn, ConnectionError, formatAddress } from "../../lib/transport/plain.ts";
import type { UdpSocket, UdpTarget } from "../../lib/transport/unstable_udp.ts";
import { countMismatches } from "./_compare.ts";
import type { Payload } from "./_payload.ts";

/** Counters every link adds to. */
export interface Tally {
  bytes_sent: number;
  bytes_received: number;
  mismatches: number;
}

/** A connection that does echo round trips. */
export interface Link {
  /** Milliseconds the connection took to open (with the TLS handshake), if it has one. */
  readonly connectMs?: number;
  /** `true` while a round trip's payload is not yet all written. */
  readonly writing: boolean;
  /** Sends the payload once and reads its echo. */
  roundTrip(): Promise<void>;
  /** Ends it cleanly after the last round trip (a TLS peer gets its close_notify). */
  end(): Promise<void>;
  /** Closes it at once; a round trip in flight fails. Idempotent. */
  close(): void;
}

// Each read is a runtime op: 256 KiB reads take a bulk echo in a quarter of
// the ops 64 KiB ones need (measured: about 1.2-1.5x the throughput, bench/).
const READ_BUFFER_SIZE = 256 * 1024;
// Payloads up to this size fit in the socket buffers, so writing all of it
// before reading cannot deadlock; larger ones are written and read at once.
const SEQUENTIAL_MAX = 64 * 1024;

/** Round trips over a byte stream (TCP, TLS, Unix). */
export class StreamLink implements Link {
  readonly connectMs: number;
  writing = false;
  #conn: Conn;
  #payload: Payload;
  #chunkSize: number;
  #tally: Tally;
  #buffer: Uint8Array;
  #peer: string;

  constructor(conn: Conn, payload: Payload, chunkSize: number | undefined, tally: Tally) {
    this.#conn = conn;
    this.#payload = payload;
    // One write per view at most: a generated payload is never whole in memory.
    this.#chunkSize = Math.min(chunkSize ?? payload.length, payload.maxView);
    this.#tally = tally;
    // Never longer than one round trip's echo, so a read cannot take bytes
    // of the next one.
    this.#buffer = new Uint8Array(Math.min(READ_BUFFER_SIZE, payload.length));
    this.#peer = formatAddress(conn.remoteAddr);
    const t = conn.timings;
    this.connectMs = (t.tlsEnd ?? t.connectEnd ?? 0) - (t.connectStart ?? 0);
  }

  roundTrip(): Promise<void> {
    return this.#payload.length <= SEQUENTIAL_MAX ? this.#sequential() : this.#concurrent();
  }

  async end(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      // The peer went first: there is nothing left to end.
    } finally {
      this.#conn.close();
    }
  }

  close(): void {
    this.#conn.close();
  }

  async #sequential(): Promise<void> {
    await this.#write();
    await this.#read();
  }

  // The reader runs while the writer writes, or both would block once the
  // socket buffers fill. Whichever fails first closes the connection, so the
  // other cannot wait forever; its error is the one reported.
  async #concurrent(): Promise<void> {
    let first: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      first ??= { error };
      this.#conn.close();
    };
    await Promise.all([this.#read().catch(fail), this.#write().catch(fail)]);
    if (first) throw first.error;
  }

  async #write(): Promise<void> {
    const payload = this.#payload;
    const step = this.#chunkSize;
    this.writing = true;
    for (let off = 0; off < payload.length; off += step) {
      const chunk = payload.view(off, Math.min(step, payload.length - off));
      await this.#conn.write(chunk);
      this.#tally.bytes_sent += chunk.length;
    }
    this.writing = false;
  }

  async #read(): Promise<void> {
    const payload = this.#payload;
    const buffer = this.#buffer;
    const tally = this.#tally;
    let off = 0;
    while (off < payload.length) {
      const want = payload.length - off;
      const n = await this.#conn.read(want >= buffer.length ? buffer : buffer.subarray(0, want));
      if (n === null) {
        throw new ConnectionError({
          code: "closed",
          operation: "read",
          address: this.#peer,
          detail:
            `the peer closed the connection after ${off} of ${payload.length} bytes of the echo`,
        });
      }
      tally.bytes_received += n;
      tally.mismatches += countMismatches(buffer, payload.view(off, n), 0, n);
      off += n;
    }
  }
}

/** Round trips of one datagram each over UDP. */
export class UdpLink implements Link {
  readonly writing = false;
  #socket: UdpSocket;
  #target: UdpTarget;
  #payload: Uint8Array;
  #tally: Tally;

  constructor(socket: UdpSocket, target: UdpTarget, payload: Uint8Array, tally: Tally) {
    this.#socket = socket;
    this.#target = target;
    this.#payload = payload;
    this.#tally = tally;
  }

  async roundTrip(): Promise<void> {
    const payload = this.#payload;
    await this.#socket.send(payload, this.#target);
    this.#tally.bytes_sent += payload.length;
    const { data } = await this.#socket.receive();
    this.#tally.bytes_received += data.length;
    // A reply of the wrong length counts its missing or extra bytes as mismatches.
    const common = Math.min(data.length, payload.length);
    this.#tally.mismatches += countMismatches(data, payload, 0, common) +
      Math.abs(data.length - payload.length);
  }

  end(): Promise<void> {
    this.#socket.close();
    return Promise.resolve();
  }

  close(): void {
    this.#socket.close();
  }
}
