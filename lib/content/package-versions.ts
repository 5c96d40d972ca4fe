// Package versions compared the way each package manager compares them, and an order-preserving
// byte encoding of them: memcmp order of `sortKey` equals the manager's order, so PostgreSQL
// answers "openssl < 3.0.14" as a range over the (name, scheme, sort_key) index (bytea compares
// bytewise). Tests check both against the real `dpkg --compare-versions` and rpm's `rpm.vercmp`.
//
// - deb (dpkg's verrevcmp): epoch, then upstream, then revision; each string alternates a
//   non-digit part (compared char by char: '~' before the end, the end before letters, letters
//   before everything else) and a digit part (compared as a number). A missing revision is "".
// - rpm (rpmvercmp): epoch, version, release; separators are skipped, '~' sorts before anything
//   (the end too), '^' after the end but before any segment, an alpha segment before a numeric
//   one, numbers without their leading zeros.
// - apk and other: dpkg's rules. apk's own differ on suffixes (apk puts 1.0_rc1 before 1.0, dpkg
//   after it); they are close enough for ordering packages of one Alpine release and searching.
import type { PackageScheme } from "@/db/enums";

export interface ParsedVersion {
  epoch: number;
  upstreamVersion: string;
  /** Revision (deb) or release (rpm); "" when absent. */
  release: string;
  /** False when the text named no release: rpm then compares epoch and version only (as rpm does for a dependency). */
  hasRelease: boolean;
}

/** Printable ASCII without spaces: what dpkg and rpm accept in a version (stricter per manager, but never more). */
const VERSION_CHARS = /^[\x21-\x7e]+$/;
const MAX_EPOCH = 2 ** 31 - 1;
/** Longest digit run a key can hold (its length is one byte); real versions have a dozen at most. */
const MAX_DIGITS = 255;

export class VersionSyntaxError extends Error {}

/** `[epoch:]upstream[-release]`: the epoch is what precedes the first ':', the release what follows the last '-'. */
export function parseVersion(scheme: PackageScheme, text: string): ParsedVersion {
  const trimmed = text.trim();
  if (!trimmed) throw new VersionSyntaxError("The version is empty.");
  if (!VERSION_CHARS.test(trimmed))
    throw new VersionSyntaxError(`"${text}" has a character no package version uses (spaces or non-ASCII).`);
  let rest = trimmed;
  let epoch = 0;
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const epochText = rest.slice(0, colon);
    if (!/^\d+$/.test(epochText) || Number(epochText) > MAX_EPOCH)
      throw new VersionSyntaxError(`The epoch "${epochText}" before ':' must be a whole number.`);
    epoch = Number(epochText);
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  const upstreamVersion = dash >= 0 ? rest.slice(0, dash) : rest;
  const release = dash >= 0 ? rest.slice(dash + 1) : "";
  if (!upstreamVersion) throw new VersionSyntaxError(`"${text}" has no version before its release.`);
  if (dash >= 0 && !release) throw new VersionSyntaxError(`"${text}" ends with '-' but names no release after it.`);
  if (scheme === "rpm" && upstreamVersion.includes(":"))
    throw new VersionSyntaxError(`"${text}" has more than one ':'; only the epoch is followed by one.`);
  for (const part of [upstreamVersion, release]) {
    if (/\d{256}/.test(part)) throw new VersionSyntaxError(`"${text}" has a number longer than ${MAX_DIGITS} digits.`);
  }
  return { epoch, upstreamVersion, release, hasRelease: dash >= 0 };
}

const isDigit = (code: number) => code >= 48 && code <= 57;
const isAlpha = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

// ---- dpkg -------------------------------------------------------------------------------------

/** dpkg's `order`: digits and the end 0, '~' -1, letters themselves, anything else after letters. */
function dpkgOrder(code: number | undefined): number {
  if (code === undefined || isDigit(code)) return 0;
  if (isAlpha(code)) return code;
  if (code === 126) return -1;
  return code + 256;
}

/** dpkg's verrevcmp, as in lib/dpkg/version.c. */
export function dpkgVerrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = dpkgOrder(i < a.length ? a.charCodeAt(i) : undefined);
      const bc = dpkgOrder(j < b.length ? b.charCodeAt(j) : undefined);
      if (ac !== bc) return Math.sign(ac - bc);
      i += 1;
      j += 1;
    }
    while (a[i] === "0") i += 1;
    while (b[j] === "0") j += 1;
    while (i < a.length && isDigit(a.charCodeAt(i)) && j < b.length && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i += 1;
      j += 1;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return Math.sign(firstDiff);
  }
  return 0;
}

// Key bytes for dpkg. A string is a sequence of (non-digit part, number) pairs, the first one's
// non-digit part possibly empty, always at least one pair ("" and "0" are equal). A non-digit char
// is one byte: '~' 0x01, letters themselves (0x41-0x7a), others 0x80 + code (0xa1-0xfd); the part
// ends with 0x02, which also stands for "the string ended" (dpkg's order of the end and of a digit
// is 0). A number is its digit count then its digits, leading zeros dropped. After the last pair
// comes 0x02: a longer string's next pair starts with a '~' (0x01, sorts first) or another char
// (sorts after), never with 0x02, so no key is a prefix of another and keys concatenate.
const DEB_TILDE = 0x01;
const DEB_END = 0x02;

function pushNumber(out: number[], digits: string) {
  const stripped = digits.replace(/^0+/, "");
  if (stripped.length > MAX_DIGITS)
    throw new VersionSyntaxError(`A version has a number longer than ${MAX_DIGITS} digits.`);
  out.push(stripped.length);
  for (let k = 0; k < stripped.length; k += 1) out.push(stripped.charCodeAt(k));
}

function dpkgStringKey(out: number[], text: string) {
  let i = 0;
  do {
    while (i < text.length && !isDigit(text.charCodeAt(i))) {
      const code = text.charCodeAt(i);
      if (code < 0x21 || code > 0x7e)
        throw new VersionSyntaxError(`"${text}" has a character no package version uses.`);
      out.push(code === 126 ? DEB_TILDE : isAlpha(code) ? code : 0x80 + code);
      i += 1;
    }
    out.push(DEB_END);
    const start = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i += 1;
    pushNumber(out, text.slice(start, i));
  } while (i < text.length);
  out.push(DEB_END);
}

// ---- rpm --------------------------------------------------------------------------------------

type RpmToken =
  { kind: "tilde" } | { kind: "caret" } | { kind: "alpha"; text: string } | { kind: "number"; digits: string };

/** rpm's segments: letters runs, digit runs, '~' and '^'; everything else separates. */
function rpmTokens(text: string): RpmToken[] {
  const tokens: RpmToken[] = [];
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 126) {
      tokens.push({ kind: "tilde" });
      i += 1;
    } else if (code === 94) {
      tokens.push({ kind: "caret" });
      i += 1;
    } else if (isDigit(code)) {
      const start = i;
      while (i < text.length && isDigit(text.charCodeAt(i))) i += 1;
      tokens.push({ kind: "number", digits: text.slice(start, i).replace(/^0+/, "") });
    } else if (isAlpha(code)) {
      const start = i;
      while (i < text.length && isAlpha(text.charCodeAt(i))) i += 1;
      tokens.push({ kind: "alpha", text: text.slice(start, i) });
    } else i += 1;
  }
  return tokens;
}

// Token ranks: '~' before the end, the end before '^', '^' before segments, alpha before numeric.
const RPM_TILDE = 0x01;
const RPM_END = 0x02;
const RPM_CARET = 0x03;
const RPM_ALPHA = 0x04;
const RPM_NUMBER = 0x05;

function rpmTokenRank(token: RpmToken | undefined): number {
  if (!token) return RPM_END;
  return { tilde: RPM_TILDE, caret: RPM_CARET, alpha: RPM_ALPHA, number: RPM_NUMBER }[token.kind];
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** rpmvercmp over segments (rpm's own returns 0 for identical strings first, which this agrees with). */
export function rpmVercmp(a: string, b: string): number {
  if (a === b) return 0;
  const left = rpmTokens(a);
  const right = rpmTokens(b);
  for (let k = 0; k < Math.max(left.length, right.length); k += 1) {
    const x = left[k];
    const y = right[k];
    const rank = rpmTokenRank(x) - rpmTokenRank(y);
    if (rank) return Math.sign(rank);
    if (x?.kind === "number" && y?.kind === "number") {
      if (x.digits.length !== y.digits.length) return Math.sign(x.digits.length - y.digits.length);
      const order = compareText(x.digits, y.digits);
      if (order) return order;
    } else if (x?.kind === "alpha" && y?.kind === "alpha") {
      const order = compareText(x.text, y.text);
      if (order) return order;
    }
  }
  return 0;
}

// Key bytes for rpm: each token its rank byte, an alpha segment its letters and 0x00 (a shorter
// segment sorts first), a number its digit count and digits; the end 0x02. No key is a prefix of
// another (after a shared prefix one key ends with 0x02 where the other has a token rank).
function rpmStringKey(out: number[], text: string) {
  for (const token of rpmTokens(text)) {
    out.push(rpmTokenRank(token));
    if (token.kind === "alpha") {
      for (let k = 0; k < token.text.length; k += 1) out.push(token.text.charCodeAt(k));
      out.push(0x00);
    } else if (token.kind === "number") pushNumber(out, token.digits);
  }
  out.push(RPM_END);
}

// ---- both -------------------------------------------------------------------------------------

type VersionParts = Pick<ParsedVersion, "epoch" | "upstreamVersion" | "release">;

function pushEpoch(out: number[], epoch: number) {
  out.push((epoch >>> 24) & 0xff, (epoch >>> 16) & 0xff, (epoch >>> 8) & 0xff, epoch & 0xff);
}

function prefixKey(scheme: PackageScheme, { epoch, upstreamVersion }: Omit<VersionParts, "release">): number[] {
  const out: number[] = [];
  pushEpoch(out, epoch);
  if (scheme === "rpm") rpmStringKey(out, upstreamVersion);
  else dpkgStringKey(out, upstreamVersion);
  return out;
}

/** Bytes whose order is the package manager's order of (epoch, version, release). */
export function sortKey(scheme: PackageScheme, version: VersionParts): Buffer {
  const out = prefixKey(scheme, version);
  if (scheme === "rpm") rpmStringKey(out, version.release);
  else dpkgStringKey(out, version.release);
  return Buffer.from(out);
}

/** Negative, zero or positive as the manager orders `a` and `b` (full version strings). */
export function compareVersions(scheme: PackageScheme, a: string, b: string): number {
  const x = parseVersion(scheme, a);
  const y = parseVersion(scheme, b);
  if (x.epoch !== y.epoch) return Math.sign(x.epoch - y.epoch);
  const compare = scheme === "rpm" ? rpmVercmp : dpkgVerrevcmp;
  return compare(x.upstreamVersion, y.upstreamVersion) || compare(x.release, y.release);
}

export type VersionOperator = "=" | "<" | "<=" | ">" | ">=";

/** Bounds on sort_key for "version <op> text": `lower`/`upper` are keys, inclusive or not. */
export interface KeyRange {
  lower?: { key: Buffer; inclusive: boolean };
  upper?: { key: Buffer; inclusive: boolean };
}

/**
 * The sort_key range a condition selects under one scheme. dpkg compares a version without a
 * revision as revision "" (so `openssl < 3.0.14` excludes 3.0.14-1, as apt does); rpm ignores the
 * release when the condition names none (as rpm does for `Requires: openssl < 3.0.14`), which is
 * the range between the version's prefix key (below every release) and that prefix followed by
 * 0xff (above every release: release keys start with a rank byte of at most 0x05).
 */
export function keyRange(scheme: PackageScheme, op: VersionOperator, text: string): KeyRange {
  const version = parseVersion(scheme, text);
  let low: Buffer;
  let high: Buffer;
  let exact: boolean;
  if (scheme === "rpm" && !version.hasRelease) {
    const prefix = prefixKey(scheme, version);
    low = Buffer.from(prefix);
    high = Buffer.from([...prefix, 0xff]);
    exact = false;
  } else {
    low = high = sortKey(scheme, version);
    exact = true;
  }
  switch (op) {
    case "=":
      return { lower: { key: low, inclusive: true }, upper: { key: high, inclusive: exact } };
    case "<":
      return { upper: { key: low, inclusive: false } };
    case "<=":
      return { upper: { key: high, inclusive: exact } };
    case ">":
      return { lower: { key: high, inclusive: !exact } };
    case ">=":
      return { lower: { key: low, inclusive: true } };
  }
}

/** Whether a key falls in a range (the same test the SQL makes; used by tests). */
export function keyInRange(key: Buffer, range: KeyRange): boolean {
  if (range.lower) {
    const order = Buffer.compare(key, range.lower.key);
    if (order < 0 || (order === 0 && !range.lower.inclusive)) return false;
  }
  if (range.upper) {
    const order = Buffer.compare(key, range.upper.key);
    if (order > 0 || (order === 0 && !range.upper.inclusive)) return false;
  }
  return true;
}
