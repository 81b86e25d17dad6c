// A certificate chain with more intermediates than Deno's TLS library
// (rustls: at most 6) accepts, served by openssl s_server: openssl and curl
// verify it, wiretest cannot, and must say that the chain is too long — not
// that the certificate is "not signed by a trusted CA".
import assert from "node:assert/strict";
import { connectNativeTls, connectTls } from "../../lib/transport/mod.ts";
import { ConnectionError } from "../../lib/errors.ts";
import { runHttpProbe } from "../../plugins/http_probe/mod.ts";
import { runEchoClient, startEchoServer } from "../../plugins/echo/mod.ts";
import { makeCertChain } from "../_support/cert_chain.ts";
import { freePort, ignoreWithout, spawnPeer, waitForListen } from "../_support/peer.ts";
import { commandOutput } from "../_support/command.ts";

const ignore = ignoreWithout("openssl", "curl");
const TOO_LONG =
  /certificate chain has 7 intermediate certificates, more than the 6 the TLS library \(rustls, in Deno\) accepts/;

async function sServer(chain: { leafFile: string; keyFile: string; intermediatesFile: string }) {
  const port = freePort();
  const peer = spawnPeer("openssl", [
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-cert",
    chain.leafFile,
    "-key",
    chain.keyFile,
    "-cert_chain",
    chain.intermediatesFile,
    "-www",
    "-quiet",
  ]); // deno-fmt-ignore
  await waitForListen(port, 10_000);
  return Object.assign(peer, { port });
}

async function text(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const out = await commandOutput(cmd, { args, stdout: "piped", stderr: "piped" });
  const decoder = new TextDecoder();
  return { code: out.code, out: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

Deno.test({
  name:
    "a 7-intermediate chain that openssl and curl verify fails in wiretest as too long, naming the depth",
  ignore,
  async fn() {
    await using chain = await makeCertChain(7);
    const verify = await text("openssl", [
      "verify",
      "-CAfile",
      chain.rootFile,
      "-untrusted",
      chain.intermediatesFile,
      chain.leafFile,
    ]); // deno-fmt-ignore
    assert.equal(verify.code, 0, verify.out);
    await using server = await sServer(chain);
    const curl = await text("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--max-time",
      "10",
      "--cacert",
      chain.rootFile,
      `https://127.0.0.1:${server.port}/`,
    ]); // deno-fmt-ignore
    assert.equal(curl.out, "200", "curl verifies the chain");
    const url = `https://127.0.0.1:${server.port}/`;
    for (const tlsClient of ["auto", "native", "node"] as const) {
      const outcome = await runHttpProbe({
        url,
        caFile: chain.rootFile,
        tlsClient,
        timeoutMs: 10_000,
      });
      assert.equal(outcome.ok, false, tlsClient);
      assert.equal(outcome.error?.code, "tls", tlsClient);
      assert.match(outcome.error!.message, TOO_LONG, tlsClient);
      const tls = outcome.facts.tls as { authorized: boolean; authorization_error: string };
      assert.equal(tls.authorized, false);
      assert.match(tls.authorization_error, TOO_LONG);
    }
    // With insecure the probe goes on and says why the certificate did not verify.
    const insecure = await runHttpProbe({ url, caFile: chain.rootFile, insecure: true });
    assert.equal(insecure.ok, true, insecure.error?.message);
    assert.match(
      (insecure.facts.tls as { authorization_error: string }).authorization_error,
      TOO_LONG,
    );
    // The transports themselves.
    const caCerts = [await Deno.readTextFile(chain.rootFile)];
    await assert.rejects(
      connectNativeTls({ hostname: "127.0.0.1", port: server.port, caCerts }),
      (error: unknown) => {
        assert.ok(error instanceof ConnectionError);
        assert.equal(error.code, "tls");
        assert.match(
          error.message,
          /certificate chain is longer than the TLS library \(rustls, in Deno\) accepts: more than 6 intermediate certificates/,
        );
        assert.match(error.message, /MaximumPathDepthExceeded/);
        return true;
      },
    );
    const inspected = await connectTls({
      hostname: "127.0.0.1",
      port: server.port,
      caCerts,
      insecure: true,
    });
    try {
      assert.equal(inspected.tls.authorized, false);
      assert.match(inspected.tls.authorizationError!, TOO_LONG);
    } finally {
      inspected.close();
    }
  },
});

Deno.test({
  name: "a 6-intermediate chain verifies, and an untrusted 7-intermediate chain stays untrusted",
  ignore,
  async fn() {
    await using six = await makeCertChain(6);
    await using server = await sServer(six);
    const url = `https://127.0.0.1:${server.port}/`;
    for (const tlsClient of ["auto", "native", "node"] as const) {
      const outcome = await runHttpProbe({ url, caFile: six.rootFile, tlsClient });
      assert.equal(outcome.ok, true, `${tlsClient}: ${outcome.error?.message}`);
    }
    await using seven = await makeCertChain(7);
    await using other = await makeCertChain(0);
    await using server7 = await sServer(seven);
    const untrusted = await runHttpProbe({
      url: `https://127.0.0.1:${server7.port}/`,
      caFile: other.rootFile,
    });
    assert.equal(untrusted.ok, false);
    assert.match(untrusted.error!.message, /not signed by a trusted CA/);
  },
});

Deno.test({
  name:
    "echo over TLS to wiretest's echo server with a 7-intermediate chain says the chain is too long",
  ignore,
  async fn() {
    await using chain = await makeCertChain(7);
    const server = await startEchoServer({
      transport: "tls",
      cert: chain.chainFile,
      key: chain.keyFile,
    });
    try {
      const { port } = server.address as Deno.NetAddr;
      const outcome = await runEchoClient({
        target: `127.0.0.1:${port}`,
        transport: "tls",
        caFile: chain.rootFile,
      });
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.code, "tls");
      assert.match(
        outcome.error!.message,
        /chain has 7 intermediate certificates|chain is longer than the TLS library/,
      );
    } finally {
      await server.close();
    }
  },
});
