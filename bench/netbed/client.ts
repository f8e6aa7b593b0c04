// (Run by the network bed of test/support/netns.ts and bench/failover.ts.)
// The client of the network bed, run in the client namespace:
//   node client.js PORT ADDRESS...
// For each floating address it keeps (a) a prober opening a new connection
// every ~20 ms and reading who answers, and (b) one held connection that stays
// idle until it ends; then it opens the next one. Each observation is one JSON
// line on stdout:
//   {"t":ms,"kind":"answer","addr":A,"node":N}       a probe was answered by node N
//   {"t":ms,"kind":"fail","addr":A,"error":E}        a probe failed or timed out
//   {"t":ms,"kind":"held","addr":A,"node":N,"port":P}  a held connection (from local port P) was opened to N
//   {"t":ms,"kind":"held-end","addr":A,"node":N,"error":E}  it was reset or closed
// A line "poke ADDR" on stdin sends a line on ADDR's held connection (its reply
// is an "answer" with "held":true).
import net from "node:net";
import readline from "node:readline";

const [portText, ...addrs] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || addrs.length === 0) {
  process.stderr.write("usage: client.js PORT ADDRESS...\n");
  process.exit(2);
}
const PROBE_EVERY_MS = 20;
const PROBE_TIMEOUT_MS = 250;

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
}

function firstLine(sock: net.Socket, onLine: (line: string) => void): void {
  let buf = "";
  sock.on("data", (d) => {
    buf += d.toString();
    let nl = buf.indexOf("\n");
    while (nl !== -1) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  });
}

function probe(addr: string): void {
  const sock = net.connect({ host: addr, port });
  let done = false;
  const finish = (o: Record<string, unknown>) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.destroy();
    emit({ addr, ...o });
    setTimeout(() => probe(addr), PROBE_EVERY_MS);
  };
  const timer = setTimeout(() => finish({ kind: "fail", error: "timeout" }), PROBE_TIMEOUT_MS);
  firstLine(sock, (line) => finish({ kind: "answer", node: line }));
  sock.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "fail", error: e.code ?? e.message }));
  sock.on("close", () => finish({ kind: "fail", error: "closed" }));
}

const held = new Map<string, net.Socket>();

function hold(addr: string): void {
  const sock = net.connect({ host: addr, port });
  let node: string | undefined;
  let ended = false;
  const end = (error: string) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    sock.destroy();
    if (held.get(addr) === sock) held.delete(addr);
    if (node !== undefined) emit({ kind: "held-end", addr, node, error });
    setTimeout(() => hold(addr), node === undefined ? PROBE_TIMEOUT_MS : 50);
  };
  const timer = setTimeout(() => node === undefined && end("timeout"), PROBE_TIMEOUT_MS);
  firstLine(sock, (line) => {
    if (node === undefined) {
      node = line;
      clearTimeout(timer);
      held.set(addr, sock);
      emit({ kind: "held", addr, node, port: sock.localPort });
    } else {
      emit({ kind: "answer", addr, node: line, held: true });
    }
  });
  sock.on("error", (e: NodeJS.ErrnoException) => end(e.code ?? e.message));
  sock.on("close", () => end("closed"));
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, addr] = line.split(" ");
  if (cmd === "poke" && addr !== undefined) held.get(addr)?.write("poke\n");
});
process.stdin.on("end", () => process.exit(0));
for (const addr of addrs) {
  probe(addr);
  hold(addr);
}
