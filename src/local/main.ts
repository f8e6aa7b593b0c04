// Entry for `npm start` / `npm stop`.

import { processContext } from "../cli/context.ts";
import { localCommand } from "./cli.ts";

process.exitCode = await localCommand(process.argv.slice(2), processContext());
