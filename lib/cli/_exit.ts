/** Exit codes: 0 success, 1 the exchange or a test failed, 2 usage or invalid input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
