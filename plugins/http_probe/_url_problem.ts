// Why a URL the probe was given cannot be requested, in words: the URL
// parser's own error ("Invalid URL: '…'") names neither what is wrong nor
// stays on one line when the text holds a line break.
import { checkHost } from "../../lib/transport/mod.ts";

// C0 and C1 controls and DEL: the URL parser drops tabs and line breaks
// anywhere without a word, so "http://a\tb/" would quietly become "http://ab/".
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The message for a `url` that is not an http:// or https:// URL to
 * connect to: `Cannot parse URL "<text>": <why>`, or the host check's own
 * message when the host inside brackets is what is wrong (an IPv6 zone id).
 */
export function urlProblem(text: string): string {
  const cannot = (why: string) => `Cannot parse URL ${quote(text)}: ${why}`;
  if (text.trim() === "") return cannot("it is empty");
  if (CONTROL.test(text.trim())) return cannot("it contains a control character");
  const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(text)?.[1].toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    return cannot("it is not an http:// or https:// URL");
  }
  const authority = /^\s*https?:\/\/([^/?#]*)/i.exec(text)?.[1];
  if (authority === undefined) return cannot(`it has no "//" before the host`);
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  const bracketed = /^\[([^\]]*)\](.*)$/.exec(hostPort);
  if (hostPort.startsWith("[") && !bracketed) return cannot('its "[" is not closed');
  const host = bracketed ? bracketed[1] : hostPort.replace(/:[^:]*$/, "");
  const port = bracketed ? bracketed[2].replace(/^:/, "") : /:([^:]*)$/.exec(hostPort)?.[1];
  if (host === "") return cannot("it has no host");
  try {
    checkHost(host);
  } catch (error) {
    return (error as Error).message;
  }
  if (port !== undefined && port !== "") {
    if (!/^\d+$/.test(port)) return cannot(`its port ${quote(port)} is not a number`);
    if (Number(port) > 65535) return cannot(`its port ${quote(port)} is out of range 1-65535`);
  }
  return cannot("it is not a valid URL");
}

/**
 * The message for a `url` whose host the URL parser reads as an IPv4 address
 * other than as written: a number ("12345" is 0.0.48.57), fewer than four
 * parts ("127.1"), octal or hex parts ("0177.0.0.1", "0x7f.1"). The probe
 * would connect to an address nobody wrote; checkHost refuses the same host
 * in echo and ping targets. `hostname` is the parsed URL's.
 */
export function urlIpv4RewriteProblem(text: string, hostname: string): string | undefined {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(hostname)) return undefined;
  // The host as written: backslashes are slashes in http(s) URLs.
  const authority = /^\s*https?:[/\\]*([^/\\?#]*)/i.exec(text)?.[1] ?? "";
  const written = authority.slice(authority.lastIndexOf("@") + 1).replace(/:\d*$/, "");
  let decoded = written;
  try {
    decoded = decodeURIComponent(written);
  } catch {
    // Kept as written: not what the parser made of it either way.
  }
  if (decoded.replace(/\.$/, "") === hostname) return undefined;
  return `Cannot use host ${
    quote(written)
  }: the URL standard reads it as IPv4 address ${hostname} (write that)`;
}

/**
 * The message for a `url` the URL parser would take but quietly change: it
 * drops tabs and line breaks wherever they are (white space around the URL
 * is only trimmed, as the parser and curl do).
 */
export function urlControlProblem(text: string): string | undefined {
  return CONTROL.test(text.trim()) ? urlProblem(text) : undefined;
}

// As the transport's messages quote: JSON's escapes, C1 controls and the
// Unicode line separators too (JSON leaves those raw), long text cut.
function quote(text: string): string {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return JSON.stringify(shown).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
