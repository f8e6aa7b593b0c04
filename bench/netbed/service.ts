// (Run by the network bed of test/support/netns.ts and bench/failover.ts.)
// The TCP service of a node in the network bed: answers every connection, and
// every line received on it, with the node's name. Run in a node namespace:
//   node service.js NAME PORT
import net from "node:net";

const [name, portText] = process.argv.slice(2);
const port = Number(portText);
if (name === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write("usage: service.js NAME PORT\n");
  process.exit(2);
}
const server = net.createServer((sock) => {
  sock.on("error", () => sock.destroy());
  sock.write(`${name}\n`);
  sock.on("data", () => sock.write(`${name}\n`));
});
// "::" without ipv6Only takes IPv4 connections too.
server.listen({ host: "::", port }, () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => process.exit(0));
