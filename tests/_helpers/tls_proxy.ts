/**
 * A loopback TLS-terminating TCP forwarder for end-to-end tests: clients speak TLS to it,
 * it forwards the decrypted bytes unchanged to a plain TCP target, so HTTPS requests and
 * WebSocket upgrades (`wss://`) alike reach a plain-HTTP server such as the reference control
 * plane. Certificates come from {@linkcode makeTestCertificates}: a throwaway CA made with
 * `openssl` at test time and a server certificate for `localhost` and `127.0.0.1` signed by it.
 *
 * @example
 * ```ts
 * const certs = await makeTestCertificates(dir);
 * await using proxy = await startTlsProxy({ targetPort: cp.port, certs });
 * // https://localhost:${proxy.port} now serves the control plane; trust certs.caFile.
 * ```
 */

/** Files written by {@linkcode makeTestCertificates}. */
export interface TestCertificates {
  /** The CA certificate (PEM): what a client puts in `ca_file`. */
  readonly caFile: string;
  /** The server certificate (PEM), for `localhost` and `127.0.0.1`, signed by the CA. */
  readonly certFile: string;
  /** The server's private key (PEM). */
  readonly keyFile: string;
}

/** Whether an `openssl` binary can be run (tests that need it are ignored otherwise). */
export function hasOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Writes `ca.pem`/`ca.key` (a self-signed P-256 CA, valid 1 day) and `server.pem`/`server.key`
 * (subjectAltName `DNS:localhost, IP:127.0.0.1, IP:::1`, serverAuth, signed by the CA) into
 * `dir`, which must exist.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await Deno.writeTextFile(
    `${dir}/ca.cnf`,
    [
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,keyCertSign,cRLSign",
      "subjectKeyIdentifier=hash",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${dir}/server.cnf`,
    [
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "authorityKeyIdentifier=keyid",
      "",
    ].join("\n"),
  );
  // The CA: a CSR self-signed with x509 -req so that ca.cnf's extensions apply on every
  // openssl version (req -x509 -addext differs between 1.1 and 3.x).
  await openssl(dir, [
    "req",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.csr",
    "-subj",
    "/CN=FTL test CA",
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "ca.csr",
    "-signkey",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-extfile",
    "ca.cnf",
  ]);
  await openssl(dir, [
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "server.cnf",
  ]);
  return {
    caFile: `${dir}/ca.pem`,
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
  };
}

/** Options of {@linkcode startTlsProxy}. */
export interface StartTlsProxyOptions {
  /** Where decrypted connections go (127.0.0.1); 0: set {@linkcode TlsProxy.targetPort} later. */
  targetPort?: number;
  /** The server certificate and key to present. */
  certs: TestCertificates;
}

/** A running TLS proxy. */
export interface TlsProxy {
  /** The port it listens on (127.0.0.1, and `::1` too where that port is free). */
  readonly port: number;
  /** Where decrypted connections go; may be set after start. */
  targetPort: number;
  /** TCP connections accepted so far (each TLS attempt of a client is one). */
  readonly connections: number;
  /** TLS handshakes that completed. */
  readonly handshakes: number;
  /** TLS handshakes that failed (e.g. the client did not trust the certificate). */
  readonly failedHandshakes: number;
  /** Connections whose first request was a WebSocket upgrade. */
  readonly upgrades: number;
  /** Stops listening, closes every connection and waits for them to finish. */
  close(): Promise<void>;
  /** Same as {@linkcode TlsProxy.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}

/**
 * Starts a TLS proxy on a free loopback port. It advertises no ALPN protocol, so clients
 * speak HTTP/1.1, which the plain target understands byte for byte.
 */
export async function startTlsProxy(options: StartTlsProxyOptions): Promise<TlsProxy> {
  const [cert, key] = await Promise.all([
    Deno.readTextFile(options.certs.certFile),
    Deno.readTextFile(options.certs.keyFile),
  ]);
  const listeners: Deno.TlsListener[] = [
    Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key }),
  ];
  const port = (listeners[0]!.addr as Deno.NetAddr).port;
  try {
    // Where `localhost` resolves to ::1 first, be there too (best effort: loopback only).
    listeners.push(Deno.listenTls({ hostname: "::1", port, cert, key }));
  } catch { /* no IPv6 loopback, or the port is taken there */ }

  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let connections = 0;
  let handshakes = 0;
  let failedHandshakes = 0;
  let upgrades = 0;
  let closed = false;

  async function handle(client: Deno.TlsConn): Promise<void> {
    open.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      try {
        await client.handshake();
        handshakes++;
      } catch {
        failedHandshakes++;
        return;
      }
      const first = new Uint8Array(64 * 1024);
      const n = await client.read(first);
      if (n === null) return;
      if (/^upgrade:\s*websocket/im.test(new TextDecoder().decode(first.subarray(0, n)))) {
        upgrades++;
      }
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: proxy.targetPort });
      open.add(upstream);
      await upstream.write(first.subarray(0, n));
      await Promise.allSettled([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
    } catch {
      // Reset, or the target is down: the client sees the connection close.
    } finally {
      closeQuietly(client);
      closeQuietly(upstream);
      open.delete(client);
      if (upstream) open.delete(upstream);
    }
  }

  const accepting = listeners.map(async (listener) => {
    try {
      for await (const conn of listener) {
        if (closed) {
          closeQuietly(conn);
          continue;
        }
        connections++;
        const task = handle(conn).finally(() => tasks.delete(task));
        tasks.add(task);
      }
    } catch { /* listener closed */ }
  });

  const proxy: TlsProxy = {
    port,
    targetPort: options.targetPort ?? 0,
    get connections() {
      return connections;
    },
    get handshakes() {
      return handshakes;
    },
    get failedHandshakes() {
      return failedHandshakes;
    },
    get upgrades() {
      return upgrades;
    },
    async close(): Promise<void> {
      closed = true;
      for (const listener of listeners) {
        try {
          listener.close();
        } catch { /* closed */ }
      }
      for (const conn of open) closeQuietly(conn);
      await Promise.all(accepting);
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
    [Symbol.asyncDispose](): Promise<void> {
      return proxy.close();
    },
  };
  return proxy;
}
