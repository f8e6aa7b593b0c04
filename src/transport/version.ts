// Which Tandem transport versions can join each other. A node announces
// MAJOR.MINOR in its hello; the same major is compatible (a minor adds only
// what older minors ignore), so a cluster upgrades one node at a time within a
// major. A hello without a version comes from a node before versions were
// announced, which spoke 1.0.

export interface TransportVersion {
  major: number;
  minor: number;
}

export const TRANSPORT_VERSION: TransportVersion = { major: 1, minor: 1 };
const UNANNOUNCED: TransportVersion = { major: 1, minor: 0 };

/** In CTDB's test mode only, tests may make a node announce another version. */
export const TEST_VERSION_ENV = "TANDEM_TEST_TRANSPORT_VERSION";

export function formatVersion(v: TransportVersion): string {
  return `${v.major}.${v.minor}`;
}

export function parseVersion(text: unknown): TransportVersion | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^(\d{1,6})\.(\d{1,6})$/.exec(text);
  return m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]) };
}

/** The peer's version from its hello field: absent means 1.0; malformed is undefined. */
export function helloVersion(field: unknown): TransportVersion | undefined {
  return field === undefined ? UNANNOUNCED : parseVersion(field);
}

export function compatible(a: TransportVersion, b: TransportVersion): boolean {
  return a.major === b.major;
}

/** The version this node announces. */
export function advertisedVersion(env: Record<string, string | undefined>): TransportVersion {
  if (env["CTDB_TEST_MODE"] === undefined) return TRANSPORT_VERSION;
  return parseVersion(env[TEST_VERSION_ENV]) ?? TRANSPORT_VERSION;
}
