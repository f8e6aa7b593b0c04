// Tandem's event component on its own, as CTDB runs ctdb-eventd on its own:
// serves <CTDB_BASE>/run/eventd.socket until SIGTERM. For benchmarks only.

import path from "node:path";
import { resolvePaths } from "../src/config/paths.ts";
import { startEventServer } from "../src/event/server.ts";
import { EventService } from "../src/event/service.ts";
import { toolPath } from "../src/daemon/services.ts";

const paths = resolvePaths(process.env);
const service = new EventService({
  base: paths.base,
  datadir: paths.datadir,
  toolPath: toolPath(),
  env: process.env,
  log: () => {},
});
const server = await startEventServer(path.join(paths.rundir, "eventd.socket"), service, { info: () => {}, error: () => {} });
process.on("SIGTERM", () => {
  void server.close().then(() => {
    service.close();
    process.exit(0);
  });
});
