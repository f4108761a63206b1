/**
 * The footprint bench's baseline: the least a Deno process can do and still be a connected
 * worker. It registers, heartbeats every `heartbeat` seconds and holds one WebSocket answering
 * the server's pings; no metrics, no state dir, no logging, no imports. It prints `ready` once
 * the WebSocket is open and exits on SIGTERM.
 *
 * `deno run --allow-net=127.0.0.1 bench/baseline_worker.ts <base_url> <api_key> [heartbeat_s]`
 */
const [baseUrl, apiKey, heartbeatArg] = Deno.args;
if (!baseUrl || !apiKey) {
  console.error("usage: baseline_worker.ts <base_url> <api_key> [heartbeat_s]");
  Deno.exit(2);
}
const heartbeatMs = Number(heartbeatArg ?? 30) * 1000;
const headers = { "X-API-Key": apiKey, "Content-Type": "application/json" };

const registered = await fetch(`${baseUrl}/api/workers/register`, {
  method: "POST",
  headers,
  body: JSON.stringify({
    hostname: "baseline",
    platform: Deno.build.os,
    version: "0.0.0",
    capabilities: [],
  }),
});
if (!registered.ok) {
  console.error(`register: ${registered.status} ${await registered.text()}`);
  Deno.exit(1);
}
const { worker_id: workerId, websocket_url: wsUrl } = await registered.json() as {
  worker_id: string;
  websocket_url: string;
};

async function heartbeat(): Promise<void> {
  try {
    const res = await fetch(`${baseUrl}/api/workers/${workerId}/heartbeat`, {
      method: "POST",
      headers,
      body: JSON.stringify({ status: "online" }),
    });
    await res.body?.cancel();
  } catch (error) {
    console.error(`heartbeat: ${error}`);
  }
}
await heartbeat();
const timer = setInterval(heartbeat, heartbeatMs);

const socket = new WebSocket(
  wsUrl,
  {
    headers: { Authorization: `Bearer ${apiKey}`, "X-Worker-Id": workerId },
  } as unknown as string[],
);
socket.onopen = () => console.log("ready");
socket.onmessage = (event) => {
  try {
    const frame = JSON.parse(String(event.data)) as { type?: string; ts?: number };
    if (frame.type === "ping") socket.send(JSON.stringify({ type: "pong", ts: frame.ts }));
  } catch { /* not ours to judge */ }
};
socket.onclose = (event) => {
  console.error(`websocket closed: ${event.code}`);
  Deno.exit(1);
};
Deno.addSignalListener("SIGTERM", () => {
  clearInterval(timer);
  Deno.exit(0);
});
