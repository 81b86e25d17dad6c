/**
 * A realistic run for the reporter tests: six fixtures in five files, run
 * two at a time (so their events interleave), ending passed, failed (two
 * failing expectations after a retry), error, invalid and skipped, with
 * names and values holding markup characters, control characters and
 * non-ASCII text.
 *
 * @module
 */
import type {
  FixtureRef,
  Reporter,
  RunEvent,
  SourceLocation,
  StepResultEvent,
} from "../runner/events.ts";

export const ECHO: FixtureRef = {
  file: "tests/fixtures/echo.wire.yaml",
  name: "tcp echo round trip",
};
export const ECHO_LARGE: FixtureRef = {
  file: "tests/fixtures/echo.wire.yaml",
  name: "tcp echo 64KiB",
};
/** Markup characters, a `#` that would read as a TAP directive, and a `\` in the name. */
export const HTTP: FixtureRef = {
  file: "tests/fixtures/http.wire.yaml",
  name: `http <probe> & "quotes" 'single' # SKIP not a directive \\ back`,
};
/** Non-ASCII in the name. */
export const UDP: FixtureRef = {
  file: "tests/fixtures/udp.wire.yaml",
  name: "udp ping — ünïcødé ✓ 𝄞",
};
export const BROKEN: FixtureRef = {
  file: "tests/fixtures/broken.wire.yaml",
  name: "broken.wire.yaml",
};
/** Control characters (NUL, BEL, ESC sequences, a line break) in the name. */
export const FILE_SEND: FixtureRef = {
  file: "tests/fixtures/file.wire.yaml",
  name: "file send\u0000\u0007\u001b[2J\nnext",
};

function at(file: string, line: number, column: number, path: string): SourceLocation {
  return { file, line, column, path };
}

const HTTP_STATUS_AT = at(HTTP.file, 9, 21, "steps[0].expect.facts.status");
const HTTP_LATENCY_AT = at(HTTP.file, 10, 26, "steps[0].expect.metrics.latency_ms");
const HTTP_SERVER_AT = at(HTTP.file, 11, 21, "steps[0].expect.facts.server");

/** An observed value with control characters, markup and non-ASCII text. */
export const SERVER = "nginx\u0007\u001b[31m <b>&amp;</b> \"ß\" 'x'";

function httpAttempt(attempt: number, willRetry: boolean): StepResultEvent {
  return {
    type: "step-result",
    fixture: HTTP,
    step: {
      index: 0,
      name: "get /",
      plugin: "http-probe",
      location: at(HTTP.file, 5, 5, "steps[0]"),
    },
    status: "failed",
    attempt,
    willRetry,
    durationMs: 260.4,
    outcome: {
      ok: true,
      metrics: { latency_ms: 250.5, bytes_received: 612 },
      facts: { status: 503, server: SERVER },
    },
    expectations: [
      {
        key: "facts.status",
        pass: false,
        expected: "200",
        actual: 503,
        message: `${HTTP.file}:9:21: "facts.status" is 503, expected 200`,
        location: HTTP_STATUS_AT,
      },
      {
        key: "metrics.latency_ms",
        pass: true,
        expected: "< 1s",
        actual: 250.5,
        message: `${HTTP.file}:10:26: "metrics.latency_ms" is 250.5, as expected (< 1s)`,
        location: HTTP_LATENCY_AT,
      },
      {
        key: "facts.server",
        pass: false,
        expected: "matches /^caddy <&>/",
        actual: SERVER,
        message: `${HTTP.file}:11:21: "facts.server" is ${
          JSON.stringify(SERVER)
        }, expected matches /^caddy <&>/`,
        location: HTTP_SERVER_AT,
      },
    ],
  };
}

/** The events of the run, in the order a runner with concurrency 2 emits them. */
export function runEvents(): RunEvent[] {
  return [
    { type: "run-start", time: "2025-06-01T12:00:00.000Z", fixtures: 6, concurrency: 2 },
    { type: "fixture-start", fixture: ECHO },
    { type: "fixture-start", fixture: HTTP },
    httpAttempt(1, true),
    {
      type: "step-result",
      fixture: ECHO,
      step: {
        index: 0,
        name: "round trip",
        plugin: "echo",
        location: at(ECHO.file, 6, 5, "steps[0]"),
      },
      status: "passed",
      attempt: 1,
      willRetry: false,
      durationMs: 101.2,
      outcome: { ok: true, metrics: { bytes_received: 5000, rtt_p99_ms: 0.42 }, facts: {} },
      expectations: [
        {
          key: "metrics.bytes_received",
          pass: true,
          expected: "5000",
          actual: 5000,
          message: `${ECHO.file}:10:31: "metrics.bytes_received" is 5000, as expected (5000)`,
          location: at(ECHO.file, 10, 31, "steps[0].expect.metrics.bytes_received"),
        },
      ],
    },
    { type: "fixture-end", fixture: ECHO, status: "passed", durationMs: 123.4, problems: [] },
    { type: "fixture-start", fixture: ECHO_LARGE },
    httpAttempt(2, false),
    { type: "fixture-end", fixture: HTTP, status: "failed", durationMs: 780, problems: [] },
    {
      type: "step-result",
      fixture: ECHO_LARGE,
      step: {
        index: 0,
        name: "echo #0",
        plugin: "echo",
        location: at(ECHO.file, 20, 5, "steps[0]"),
      },
      status: "passed",
      attempt: 1,
      willRetry: false,
      durationMs: 40,
      outcome: { ok: true, metrics: { bytes_received: 65536 }, facts: {} },
      expectations: [],
    },
    { type: "fixture-end", fixture: ECHO_LARGE, status: "passed", durationMs: 45, problems: [] },
    { type: "fixture-start", fixture: UDP },
    {
      type: "step-result",
      fixture: UDP,
      step: {
        index: 0,
        name: "ping",
        plugin: "udp-ping",
        location: at(UDP.file, 6, 5, "steps[0]"),
      },
      status: "error",
      attempt: 1,
      willRetry: false,
      durationMs: 2003,
      outcome: {
        ok: false,
        metrics: {},
        facts: {},
        error: {
          name: "TimeoutError",
          message: "Cannot receive from 127.0.0.1:40000: timed out after 2000 ms",
          code: "timeout",
        },
      },
      expectations: [],
      error: {
        ...at(UDP.file, 6, 5, "steps[0]"),
        message: `Cannot run fixture "${UDP.file}:6:5": step "ping" timed out after 2s`,
      },
    },
    {
      type: "fixture-end",
      fixture: UDP,
      status: "error",
      durationMs: 2010,
      problems: [{
        ...at(UDP.file, 3, 3, "services.pong"),
        message: `Cannot run fixture "${UDP.file}:3:3": service "pong" did not stop in 1s`,
      }],
    },
    {
      type: "fixture-end",
      fixture: BROKEN,
      status: "invalid",
      durationMs: 0,
      problems: [
        {
          ...at(BROKEN.file, 4, 13, "steps[0].plugin"),
          message: `Cannot load fixture "${BROKEN.file}:4:13": unknown plugin "ecko"`,
        },
        {
          ...at(BROKEN.file, 7, 20, "steps[0].expect.metrics.rtt"),
          message:
            `Cannot load fixture "${BROKEN.file}:7:20": "steps[0].expect.metrics.rtt" has a malformed expectation "<< 3"`,
        },
      ],
    },
    { type: "fixture-end", fixture: FILE_SEND, status: "skipped", durationMs: 0, problems: [] },
    {
      type: "summary",
      passed: 2,
      failed: 1,
      errors: 1,
      invalid: 1,
      skipped: 1,
      total: 6,
      durationMs: 3210,
    },
  ];
}

/**
 * Feeds events to a reporter in order, then closes it.
 *
 * @param reporter The reporter.
 * @param events The events.
 */
export async function feed(reporter: Reporter, events: readonly RunEvent[]): Promise<void> {
  for (const event of events) await reporter.onEvent(event);
  await reporter.close?.();
}

/**
 * A write sink that keeps each call's text.
 *
 * @returns The sink, its calls, and everything written.
 */
export function sink(): { write: (text: string) => void; calls: string[]; text: () => string } {
  const calls: string[] = [];
  return { write: (text) => calls.push(text), calls, text: () => calls.join("") };
}
