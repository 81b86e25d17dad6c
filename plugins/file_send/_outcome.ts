// What the file-send roles report: every metric and fact of the sender's
// outcome (sender.ts) and every counter of the receiver's stats()
// (receiver.ts). A failed send reports no metrics or facts, only the error.
// tests/outcome_declarations_test.ts checks them against real runs.
import type { MetricDeclaration, OutcomeDeclaration } from "../../lib/plugin/mod.ts";

const FRAMED = 'in mode `"framed"`';

export const fileSendOutcome: OutcomeDeclaration = {
  metrics: [
    { name: "bytes", unit: "bytes", description: "File bytes sent." },
    { name: "file_bytes", unit: "bytes", description: "The file's size when the send began." },
    {
      name: "duration_ms",
      unit: "ms",
      description:
        "From connected to acknowledged (raw: to the receiver's close, or 2 s after the last byte).",
    },
    {
      name: "throughput_mib_s",
      unit: "MiB/s",
      description: "File bytes per second over `duration_ms`.",
    },
  ],
  facts: [
    { path: "name", type: "string", description: "The name the file was sent as." },
    { path: "sha256", type: "string", description: "sha256 of the bytes sent, lower-case hex." },
    { path: "ack", type: "object", description: "The receiver's acknowledgement.", when: FRAMED },
    {
      path: "ack.ok",
      type: "boolean",
      description: "`true`: the receiver verified and stored the file.",
    },
    {
      path: "ack.message",
      type: "string",
      description: 'What the receiver said, e.g. `stored "hello.txt"`.',
    },
    { path: "ack.bytes", type: "number", description: "The size the receiver stored." },
    {
      path: "ack.sha256",
      type: "string",
      description: "The sha256 the receiver computed, lower-case hex.",
    },
    {
      path: "peer_closed",
      type: "boolean",
      description: "Whether the receiver closed the connection after the last byte (within 2 s).",
      when: 'in mode `"raw"`',
    },
  ],
};

export const fileReceiverStats: readonly MetricDeclaration[] = [
  { name: "connections", unit: "count", description: "Connections accepted." },
  {
    name: "connections_refused",
    unit: "count",
    description: "Connections closed at once for being over `maxConnections`.",
  },
  {
    name: "files_received",
    unit: "count",
    description: "Files verified and stored (framed) or written (raw).",
  },
  { name: "bytes_received", unit: "bytes", description: "Bytes of the files received." },
  { name: "rejected", unit: "count", description: "Transfers refused or failed (nothing stored)." },
];
