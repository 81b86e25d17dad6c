// The short client commands, apart from main.ts so commands that name them
// (reference) need not import the entry point.

/** Client commands: the name people type → the plugin whose client role runs. */
export const CLIENT_ALIASES: Readonly<Record<string, string>> = {
  echo: "echo",
  probe: "http-probe",
  ping: "udp-ping",
  send: "file-send",
};
