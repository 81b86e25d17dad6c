// Opens the stream listener the server params ask for, and knows what to
// clean up afterwards (the Unix socket file and the temporary directory).
import { type Listener, listenTcp, listenUnix } from "../../lib/transport/plain.ts";
import type { EchoServerParams } from "./params.ts";
import { readInputTextFile } from "../../lib/plugin/mod.ts";

/** A listener and what to remove once it is closed. */
export interface OpenedListener {
  listener: Listener;
  cleanup(): Promise<void>;
}

export async function openListener(params: EchoServerParams): Promise<OpenedListener> {
  switch (params.transport) {
    case "unix":
      return await openUnix(params.path);
    case "tls": {
      // The params schema makes cert and key required for tls. One after the
      // other: when both are missing, the error names the cert, every time.
      const cert = await readInputTextFile(params.cert!);
      const key = await readInputTextFile(params.key!);
      // Loaded for a tls server only (see _connect.ts).
      const { listenTls } = await import("../../lib/transport/mod.ts");
      return {
        listener: listenTls({
          hostname: params.host,
          port: params.port,
          cert,
          key,
          tlsServer: params.tlsServer,
        }),
        cleanup: () => Promise.resolve(),
      };
    }
    default:
      return {
        listener: listenTcp({ hostname: params.host, port: params.port }),
        cleanup: () => Promise.resolve(),
      };
  }
}

async function openUnix(path: string | undefined): Promise<OpenedListener> {
  const dir = path === undefined ? await Deno.makeTempDir({ prefix: "wiretest-echo-" }) : undefined;
  const socketPath = path ?? `${dir}/echo.sock`;
  let listener: Listener;
  try {
    listener = listenUnix({ path: socketPath, replace: true });
  } catch (error) {
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    listener,
    cleanup: async () => {
      // The socket file outlives the listener; remove what we created.
      await Deno.remove(dir ?? socketPath, { recursive: dir !== undefined }).catch(() => {});
    },
  };
}
