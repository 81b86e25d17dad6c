// A proxy's counters while a relay Worker keeps some of them in shared
// memory (_tcp_libc_relay.ts, _udp_libc_relay.ts): each named counter reads
// the Worker's slot on top of what was counted before (the host's own
// links, earlier runs before a `down`), and keeps its last value once the
// Worker has let go of it.

/** Makes `names` of `counters` read `shared` live; `settle()` fixes their values. */
export function workerCounters(
  counters: Record<string, number>,
  names: readonly string[],
  shared: Float64Array,
): { settle(): void } {
  const base = names.map((name) => counters[name] ?? 0);
  // What the last read saw of the Worker's share: a `+=` reads then writes
  // in one turn, so the write keeps the share it read.
  const seen = new Float64Array(names.length);
  names.forEach((name, i) =>
    Object.defineProperty(counters, name, {
      enumerable: true,
      configurable: true,
      get: () => base[i] + (seen[i] = shared[i]),
      set: (value: number) => base[i] = value - seen[i],
    })
  );
  return {
    settle: () =>
      names.forEach((name, i) =>
        Object.defineProperty(counters, name, {
          enumerable: true,
          configurable: true,
          writable: true,
          value: base[i] + shared[i],
        })
      ),
  };
}
