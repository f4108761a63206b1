/**
 * A loopback TCP proxy for end-to-end tests that can cut WebSocket connections while plain
 * HTTP keeps flowing: it recognises an upgrade request in the first bytes a client sends.
 */

/** A running proxy. */
export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Where connections go; may be set after start. */
  targetPort: number;
  /** While true, upgrade requests are closed at once (HTTP requests still pass). */
  blockUpgrades: boolean;
  /** WebSocket upgrades seen so far. */
  readonly upgradesSeen: number;
  /** HTTP requests seen so far (request lines sent by clients, keep-alive included). */
  readonly requestsSeen: number;
  /** Closes every connection that was upgraded; returns how many. */
  killUpgraded(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** Same as {@linkcode TcpProxy.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Pair {
  client: Deno.Conn;
  upstream: Deno.Conn | undefined;
  upgraded: boolean;
}

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}

function countRequestLines(text: string): number {
  return text.match(/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/\S* HTTP\/1\.[01]\r$/gm)?.length ??
    0;
}

/** Starts a proxy on a free 127.0.0.1 port towards `targetPort` (0: set it later). */
export function startTcpProxy(targetPort = 0): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pairs = new Set<Pair>();
  const tasks = new Set<Promise<void>>();
  let upgradesSeen = 0;
  let requestsSeen = 0;
  const proxy = {
    port: (listener.addr as Deno.NetAddr).port,
    targetPort,
    blockUpgrades: false,
    get upgradesSeen() {
      return upgradesSeen;
    },
    get requestsSeen() {
      return requestsSeen;
    },
    killUpgraded(): number {
      let n = 0;
      for (const pair of pairs) {
        if (!pair.upgraded) continue;
        closeQuietly(pair.client);
        closeQuietly(pair.upstream);
        n++;
      }
      return n;
    },
    async close(): Promise<void> {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const pair of pairs) {
        closeQuietly(pair.client);
        closeQuietly(pair.upstream);
      }
      await accepting;
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
    [Symbol.asyncDispose](): Promise<void> {
      return proxy.close();
    },
  };

  async function handle(client: Deno.Conn): Promise<void> {
    const pair: Pair = { client, upstream: undefined, upgraded: false };
    pairs.add(pair);
    try {
      const first = new Uint8Array(64 * 1024);
      const n = await client.read(first);
      if (n === null) return;
      const head = new TextDecoder().decode(first.subarray(0, n));
      requestsSeen += countRequestLines(head);
      if (/^upgrade:\s*websocket/im.test(head)) {
        upgradesSeen++;
        if (proxy.blockUpgrades) return;
        pair.upgraded = true;
      }
      pair.upstream = await Deno.connect({ hostname: "127.0.0.1", port: proxy.targetPort });
      await pair.upstream.write(first.subarray(0, n));
      const upstream = pair.upstream;
      const counting = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (!pair.upgraded) requestsSeen += countRequestLines(new TextDecoder().decode(chunk));
          controller.enqueue(chunk);
        },
      });
      await Promise.allSettled([
        client.readable.pipeThrough(counting).pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
    } catch {
      // Connection reset or refused (target down): the client sees a closed socket.
    } finally {
      closeQuietly(pair.client);
      closeQuietly(pair.upstream);
      pairs.delete(pair);
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const task = handle(conn).finally(() => tasks.delete(task));
        tasks.add(task);
      }
    } catch { /* listener closed */ }
  })();
  return proxy;
}
