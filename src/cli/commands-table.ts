/**
 * The `ctdb` 4.17 command table: names, whether a command runs without the
 * daemon, whether it may target another node with -n, and the help line.
 * The order and the help texts are what `ctdb` prints, kept so that usage
 * output is byte-identical (including upstream's "currnet" typo).
 */

export interface CommandInfo {
  name: string;
  withoutDaemon: boolean;
  remote: boolean;
  msg: string;
  args: string | null;
}

const c = (name: string, withoutDaemon: boolean, remote: boolean, msg: string, args: string | null = null): CommandInfo => ({
  name,
  withoutDaemon,
  remote,
  msg,
  args,
});

export const COMMANDS: readonly CommandInfo[] = [
  c("version", true, false, "show version of ctdb"),
  c("status", false, true, "show node status"),
  c("uptime", false, true, "show node uptime"),
  c("ping", false, true, "ping a node"),
  c("runstate", false, true, "get/check runstate of a node", "[setup|first_recovery|startup|running]"),
  c("getvar", false, true, "get a tunable variable", "<name>"),
  c("setvar", false, true, "set a tunable variable", "<name> <value>"),
  c("listvars", false, true, "list tunable variables"),
  c("statistics", false, true, "show ctdb statistics"),
  c("statisticsreset", false, true, "reset ctdb statistics"),
  c("stats", false, true, "show rolling statistics", "[count]"),
  c("ip", false, true, "show public ips", "[all]"),
  c("ipinfo", false, true, "show public ip details", "<ip>"),
  c("ifaces", false, true, "show interfaces"),
  c("setifacelink", false, true, "set interface link status", "<iface> up|down"),
  c("process-exists", false, true, "check if a process exists on a node", "<pid> [<srvid>]"),
  c("getdbmap", false, true, "show attached databases"),
  c("getdbstatus", false, true, "show database status", "<dbname|dbid>"),
  c("catdb", false, false, "dump cluster-wide ctdb database", "<dbname|dbid>"),
  c("cattdb", false, false, "dump local ctdb database", "<dbname|dbid>"),
  c("getcapabilities", false, true, "show node capabilities"),
  c("pnn", false, false, "show the pnn of the currnet node"),
  c("lvs", false, false, "show lvs configuration", "leader|list|status"),
  c("setdebug", false, true, "set debug level", "ERROR|WARNING|NOTICE|INFO|DEBUG"),
  c("getdebug", false, true, "get debug level"),
  c("attach", false, false, "attach a database", "<dbname> [persistent|replicated]"),
  c("detach", false, false, "detach database(s)", "<dbname|dbid> ..."),
  c("dumpmemory", false, true, "dump ctdbd memory map"),
  c("rddumpmemory", false, true, "dump recoverd memory map"),
  c("getpid", false, true, "get ctdbd process ID"),
  c("disable", false, true, "disable a node"),
  c("enable", false, true, "enable a node"),
  c("stop", false, true, "stop a node"),
  c("continue", false, true, "continue a stopped node"),
  c("ban", false, true, "ban a node", "<bantime>"),
  c("unban", false, true, "unban a node"),
  c("shutdown", false, true, "shutdown ctdb daemon"),
  c("recover", false, true, "force recovery"),
  c("sync", false, true, "run ip reallocation (deprecated)"),
  c("ipreallocate", false, true, "run ip reallocation"),
  c("gratarp", false, true, "send a gratuitous arp", "<ip> <interface>"),
  c("tickle", true, false, "send a tcp tickle ack", "<srcip:port> <dstip:port>"),
  c("gettickles", false, true, "get the list of tickles", "<ip> [<port>]"),
  c("addtickle", false, true, "add a tickle", "<ip>:<port> <ip>:<port>"),
  c("deltickle", false, true, "delete a tickle", "<ip>:<port> <ip>:<port>"),
  c("listnodes", true, true, "list nodes in the cluster"),
  c("reloadnodes", false, false, "reload the nodes file all nodes"),
  c("moveip", false, false, "move an ip address to another node", "<ip> <node>"),
  c("addip", false, true, "add an ip address to a node", "<ip/mask> <iface>"),
  c("delip", false, true, "delete an ip address from a node", "<ip>"),
  c("backupdb", false, false, "backup a database into a file", "<dbname|dbid> <file>"),
  c("restoredb", false, false, "restore a database from a file", "<file> [dbname]"),
  c("dumpdbbackup", true, false, "dump database from a backup file", "<file>"),
  c("wipedb", false, false, "wipe the contents of a database.", "<dbname|dbid>"),
  c("leader", false, true, "show the pnn of the leader"),
  c("event", true, false, "event and event script commands"),
  c("scriptstatus", true, false, "show event script status", "[init|setup|startup|monitor|takeip|releaseip|ipreallocated]"),
  c("natgw", false, false, "show natgw configuration", "leader|list|status"),
  c("getreclock", false, true, "get recovery lock file"),
  c("setlmasterrole", false, true, "set LMASTER role", "on|off"),
  c("setleaderrole", false, true, "set LEADER role", "on|off"),
  c("setdbreadonly", false, true, "enable readonly records", "<dbname|dbid>"),
  c("setdbsticky", false, true, "enable sticky records", "<dbname|dbid>"),
  c("pfetch", false, false, "fetch record from persistent database", "<dbname|dbid> <key>"),
  c("pstore", false, false, "write record to persistent database", "<dbname|dbid> <key> <value>"),
  c("pdelete", false, false, "delete record from persistent database", "<dbname|dbid> <key>"),
  c("ptrans", false, false, "update a persistent database (from file or stdin)", "<dbname|dbid> [<file>]"),
  c("tfetch", false, true, "fetch a record", "<tdb-file> <key> [<file>]"),
  c("tstore", false, true, "store a record", "<tdb-file> <key> <data> [<rsn> <dmaster> <flags>]"),
  c("readkey", false, false, "read value of a database key", "<dbname|dbid> <key> [readonly]"),
  c("writekey", false, false, "write value for a database key", "<dbname|dbid> <key> <value>"),
  c("deletekey", false, false, "delete a database key", "<dbname|dbid> <key>"),
  c("checktcpport", true, false, "check if a service is bound to a specific tcp port or not", "<port>"),
  c("getdbseqnum", false, false, "get database sequence number", "<dbname|dbid>"),
  c("nodestatus", false, true, "show and return node status", "[all|<pnn-list>]"),
  c("dbstatistics", false, true, "show database statistics", "<dbname|dbid>"),
  c("reloadips", false, false, "reload the public addresses file", "[all|<pnn-list>]"),
];

/** Tandem's own commands: not in ctdb, so left out of the usage text that must match ctdb's. */
export const TANDEM_COMMANDS: readonly CommandInfo[] = [
  c("ipalloc", true, false, "what-if public IP allocation (offline)", "<nodestates> [multi]"),
  c("failover", false, false, "public IP failover tools", "plan [--down|--disable|--unhealthy <pnn>]..."),
];

export function findCommand(name: string): CommandInfo | undefined {
  return COMMANDS.find((cmd) => cmd.name === name) ?? TANDEM_COMMANDS.find((cmd) => cmd.name === name);
}

const OPTION_HELP =
  "Usage: [OPTION...]\n" +
  "  -d, --debug=STRING       debug level\n" +
  "  -t, --timelimit=INT      timelimit (in seconds)\n" +
  "  -n, --node=INT           node specification - integer\n" +
  "  -Y                       enable machine readable output\n" +
  "  -x, --separator=CHAR     specify separator for machine readable output\n" +
  "  -X                       enable machine parsable output with separator |\n" +
  "  -v, --verbose            enable verbose output\n" +
  "  -T, --maxruntime=INT     die if runtime exceeds this limit (in seconds)\n" +
  "\n" +
  "Help options:\n" +
  "  -?, --help               Show this help message\n" +
  "      --usage              Display brief usage message\n";

const OPTION_USAGE =
  "Usage: [-?YXv] [-?|--help] [--usage] [-d|--debug=STRING]\n" +
  "        [-t|--timelimit=INT] [-n|--node=INT] [-Y] [-x|--separator=CHAR]\n" +
  "        [-X] [-v|--verbose] [-T|--maxruntime=INT]\n";

function commandLine(cmd: CommandInfo): string {
  return `  ${cmd.name.padEnd(15)} ${(cmd.args ?? "").padEnd(27)}  ${cmd.msg}\n`;
}

/** `--help` / `-?` (exit 0). --json is a Tandem extension and is deliberately not listed, so help stays identical to ctdb's. */
export function optionHelpText(): string {
  return OPTION_HELP;
}

/** `--usage` (exit 0). */
export function optionUsageText(): string {
  return OPTION_USAGE;
}

/** No command given, or a command's usage asked for an unknown name: full help plus the command list (exit 1). */
export function fullUsageText(): string {
  return OPTION_HELP + "\nCommands:\n" + COMMANDS.map(commandLine).join("");
}

/** Wrong arguments to a known command (exit 1). */
export function commandUsageText(name: string): string {
  const cmd = findCommand(name);
  if (cmd === undefined) return fullUsageText();
  return OPTION_USAGE + "\nCommands:\n" + commandLine(cmd);
}
