/**
 * Exit codes: 0 success, 1 the exchange or a test failed, 2 usage or invalid
 * input, 141 standard output's reader closed it (128 + SIGPIPE: what a shell
 * reports for git or grep ended by SIGPIPE, so `set -o pipefail` still sees
 * that the command did not finish).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, stdoutClosed: 141 } as const;
