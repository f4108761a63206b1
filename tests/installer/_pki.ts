/**
 * A throwaway code-signing setup made with `openssl`: a CA, a code-signing certificate in a
 * password-protected PKCS#12 file, and an RFC 3161 time-stamp authority served on 127.0.0.1
 * (each request answered by `openssl ts -reply`). Nothing leaves the machine.
 */
import { requireTool, runTool } from "./_tools.ts";

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = worker-agent test CA (throwaway)
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[codesign_ext]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa_ext]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_section
[tsa_section]
serial = ./tsaserial
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
`;

/** The throwaway PKI and its running time-stamp authority. */
export interface TestPki extends AsyncDisposable {
  /** PKCS#12 file with the code-signing certificate and key. */
  pfx: string;
  /** Its password. */
  password: string;
  /** The CA certificate (PEM), for `osslsigncode verify -CAfile`. */
  caFile: string;
  /** URL of the RFC 3161 time-stamp authority. */
  tsaUrl: string;
  /** How many time-stamp requests were answered. */
  stamps(): number;
}

/** Creates the certificates and starts the time-stamp authority. */
export async function startTestPki(): Promise<TestPki> {
  const openssl = requireTool("openssl");
  const dir = await Deno.makeTempDir({ prefix: "ftl-pki-" });
  const ssl = async (...args: string[]) => {
    const out = await runTool(openssl, args, { cwd: dir });
    if (out.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${out.stderr}`);
  };
  await Deno.writeTextFile(`${dir}/openssl.cnf`, OPENSSL_CONFIG);
  await Deno.writeTextFile(`${dir}/tsaserial`, "01\n");
  await ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-config",
    "openssl.cnf",
    "-extensions",
    "ca_ext",
  );
  for (const [name, ext] of [["cs", "codesign_ext"], ["tsa", "tsa_ext"]]) {
    await ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=worker-agent test ${name} (throwaway)`,
    );
    await ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-extfile",
      "openssl.cnf",
      "-extensions",
      ext!,
    );
  }
  const password = "throwaway-pass";
  await ssl(
    "pkcs12",
    "-export",
    "-inkey",
    "cs.key",
    "-in",
    "cs.crt",
    "-certfile",
    "ca.crt",
    "-out",
    "cs.pfx",
    "-passout",
    `pass:${password}`,
  );

  let stamps = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const query = await Deno.makeTempFile({ dir, suffix: ".tsq" });
    await Deno.writeFile(query, new Uint8Array(await request.arrayBuffer()));
    const out = await runTool(openssl, [
      "ts",
      "-reply",
      "-config",
      "openssl.cnf",
      "-queryfile",
      query,
      "-signer",
      "tsa.crt",
      "-inkey",
      "tsa.key",
      "-chain",
      "ca.crt",
      "-out",
      `${query}.tsr`,
    ], { cwd: dir });
    if (out.code !== 0) return new Response(out.stderr, { status: 500 });
    stamps++;
    return new Response(await Deno.readFile(`${query}.tsr`), {
      headers: { "content-type": "application/timestamp-reply" },
    });
  });
  return {
    pfx: `${dir}/cs.pfx`,
    password,
    caFile: `${dir}/ca.crt`,
    tsaUrl: `http://127.0.0.1:${server.addr.port}`,
    stamps: () => stamps,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
