// Content benchmark. The package rows: a catalog of 10,000 scanned versions × 300 packages (three
// million package rows, deb and rpm), "contains package X with version < Y" through the app's own
// searchPackageVersions, its ratio to the unfiltered catalog list in the same run, and the package
// diff of two stored 300-package versions. Other rows (inspection, boot test) join `run()` later.
import { sql, type SQL } from "drizzle-orm";
import { db } from "../db/client";
import { listCatalogVersions } from "../db/queries/catalog";
import { diffPackages, searchPackageVersions } from "../db/queries/packages";
import { getViewerById, type Viewer } from "../db/queries/users";
import { sortKey } from "../lib/content/package-versions";
import type { PackageCondition } from "../lib/validations/packages";
import { type BenchRow, median } from "./report";
import { openBenchWorld } from "./world";

const VERSIONS = Number(process.env.BENCH_CONTENT_VERSIONS ?? 10_000);
const VERSIONS_PER_IMAGE = 10;
const PACKAGES_PER_VERSION = 300;
/** Packages every version has; the rest of each list comes from a pool, each name in ~14% of versions. */
const COMMON = 250;
const POOL = 350;
/** Versions of each package across the catalog: 1.0.0 … 1.19.0. */
const PACKAGE_VERSIONS = 20;
const PAGE = 50;
const REPEAT = Number(process.env.BENCH_CONTENT_REPEAT ?? 40);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function sample(fn: () => Promise<unknown>, times = REPEAT): Promise<number[]> {
  for (let warm = 0; warm < 3; warm += 1) await fn();
  const durations: number[] = [];
  for (let index = 0; index < times; index += 1) {
    const started = performance.now();
    await fn();
    durations.push(performance.now() - started);
  }
  return durations;
}

const packageName = (index: number) => (index === 0 ? "openssl" : index === 1 ? "libc6" : `pkg${index}`);

/** Every (package, version, scheme) the catalog uses, with its key computed by the app's own function. */
async function seedPackageVersions() {
  await db().execute(sql`create unlogged table bench_package_versions (
    name_index int, version_index int, scheme text, name text, version text, epoch int,
    upstream_version text, release text, sort_key bytea)`);
  const rows: SQL[] = [];
  for (let nameIndex = 0; nameIndex < COMMON + POOL; nameIndex += 1) {
    for (let versionIndex = 0; versionIndex < PACKAGE_VERSIONS; versionIndex += 1) {
      for (const scheme of ["deb", "rpm"] as const) {
        const upstreamVersion = `1.${versionIndex}.0`;
        // Some tildes and epochs, so the keys are the interesting ones.
        const release =
          scheme === "deb"
            ? `${1 + (versionIndex % 3)}${versionIndex % 4 === 0 ? "~deb12u1" : ""}`
            : `${1 + (versionIndex % 3)}.el9`;
        const epoch = scheme === "rpm" && nameIndex % 10 === 0 ? 1 : 0;
        const version = `${epoch ? `${epoch}:` : ""}${upstreamVersion}-${release}`;
        const key = sortKey(scheme, { epoch, upstreamVersion, release });
        rows.push(
          sql`(${nameIndex}, ${versionIndex}, ${scheme}, ${packageName(nameIndex)}, ${version}, ${epoch}, ${upstreamVersion}, ${release}, ${key}::bytea)`,
        );
      }
    }
  }
  for (let start = 0; start < rows.length; start += 2000)
    await db().execute(
      sql`insert into bench_package_versions values ${sql.join(rows.slice(start, start + 2000), sql`, `)}`,
    );
}

export async function seedContent(): Promise<void> {
  const started = performance.now();
  const images = VERSIONS / VERSIONS_PER_IMAGE;
  await db().execute(
    sql`insert into projects (slug, name) select 'content-' || p, 'Content ' || p from generate_series(1, 10) p`,
  );
  await db().execute(
    sql.raw(`
    insert into images (slug, name, os, os_version, arch, visibility, project_id)
    select 'img-' || lpad(i::text, 5, '0'), 'Image ' || i, case when i % 10 < 7 then 'Debian' else 'Rocky' end, '12', 'x86_64',
           case when i % 3 = 0 then 'private' else 'public' end,
           (select id from projects where slug = 'content-' || (1 + i % 10))
    from generate_series(1, ${images}) i`),
  );
  await db().execute(
    sql.raw(`
    insert into blobs (sha256, sha512, size)
    select md5(n::text) || md5((n + 1)::text), md5(n::text), 1048576 from generate_series(1, ${VERSIONS}) n`),
  );
  await db().execute(
    sql.raw(`
    insert into image_versions (image_id, version, format, virtual_size, file_size, sha256, sha512, data_status, release_status, source, created_at)
    select i.id, '1.' || v, 'qcow2', 1073741824, 1048576, md5(n::text) || md5((n + 1)::text), md5(n::text), 'ready',
           (array['approved','approved','approved','pending_review','draft','deprecated'])[1 + n % 6], 'upload',
           now() - make_interval(secs => n)
    from (select id, row_number() over (order by slug) as r from images) i
    cross join generate_series(1, ${VERSIONS_PER_IMAGE}) v
    cross join lateral (select (i.r - 1) * ${VERSIONS_PER_IMAGE} + v as n) k`),
  );
  await db().execute(sql`
    update images i set latest_version_id = l.id, latest_version = l.version, latest_format = l.format,
      latest_virtual_size = l.virtual_size, latest_release_status = l.release_status, version_count = ${VERSIONS_PER_IMAGE},
      updated_at = l.created_at
    from (select distinct on (image_id) image_id, id, version, format, virtual_size, release_status, created_at
          from image_versions order by image_id, created_at desc, id desc) l
    where l.image_id = i.id`);
  await db().execute(sql`
    insert into content_scans (sha256, status, os_found, distro, os_version, arch, package_count, finished_at)
    select v.sha256, 'succeeded', true, case when i.os = 'Debian' then 'debian' else 'rocky' end,
           case when i.os = 'Debian' then '12' else '9' end, 'x86_64', ${PACKAGES_PER_VERSION}, now()
    from image_versions v join images i on i.id = v.image_id`);
  await seedPackageVersions();
  console.log(`  catalog and scans seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const loadStarted = performance.now();
  // Three million rows load fastest into a table without its secondary indexes: they are dropped
  // and made again exactly as the schema defines them (an index built once is sorted once), and
  // the foreign key is not checked row by row (replica role: the rows point at the scans made above).
  await db().transaction(async (tx) => {
    await tx.execute(sql`set local maintenance_work_mem = '1GB'`);
    await tx.execute(sql`set local session_replication_role = replica`);
    const indexes = await tx.execute<{ indexdef: string; indexname: string }>(
      sql`select indexname, indexdef from pg_indexes where tablename = 'content_packages' and indexname <> 'content_packages_pkey'`,
    );
    for (const { indexname } of indexes.rows) await tx.execute(sql.raw(`drop index ${indexname}`));
    await tx.execute(sql`
      insert into content_packages (scan_sha256, name, version, epoch, upstream_version, release, arch, scheme, sort_key)
      select s.sha256, pv.name, pv.version, pv.epoch, pv.upstream_version, pv.release,
             case s.scheme when 'rpm' then 'x86_64' else 'amd64' end, pv.scheme, pv.sort_key
      from (select v.sha256, row_number() over (order by v.sha256) as n,
                   case when sc.distro = 'rocky' then 'rpm' else 'deb' end as scheme
            from image_versions v join content_scans sc on sc.sha256 = v.sha256) s
      cross join generate_series(0, ${PACKAGES_PER_VERSION - 1}) j
      join bench_package_versions pv
        on pv.name_index = (case when j < ${COMMON} then j else ${COMMON} + ((s.n * ${PACKAGES_PER_VERSION - COMMON} + (j - ${COMMON})) % ${POOL}) end)
       and pv.version_index = abs(hashint4((s.n * 1000 + j)::int)) % ${PACKAGE_VERSIONS}
       and pv.scheme = s.scheme`);
    console.log(`  package rows inserted in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
    for (const { indexdef } of indexes.rows) await tx.execute(sql.raw(indexdef));
    console.log(`  indexes built by ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
  });
  await db().execute(sql`drop table bench_package_versions`);
  await db().execute(sql`vacuum analyze`);
  console.log(`  vacuumed by ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
  const count = await db().execute<{ n: number }>(sql`select count(*)::int as n from content_packages`);
  console.log(
    `Seeded ${VERSIONS} versions with ${count.rows[0]!.n} package rows in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
}

/** Two callers: an admin (sees everything) and a member of two of the ten seeded projects. */
async function benchViewers(): Promise<{ admin: Viewer; member: Viewer }> {
  const users = await db().execute<{ id: string; role: string }>(
    sql`insert into users (email, role) values ('content-admin@bench.local', 'admin'), ('content-member@bench.local', 'member') returning id, role`,
  );
  const adminId = users.rows.find((row) => row.role === "admin")!.id;
  const memberId = users.rows.find((row) => row.role === "member")!.id;
  await db().execute(
    sql`insert into project_members (project_id, user_id, role) select id, ${memberId}, 'member' from projects where slug in ('content-1', 'content-2')`,
  );
  return { admin: (await getViewerById({ id: adminId }))!, member: (await getViewerById({ id: memberId }))! };
}

/** The package rows: search, search against the plain list, diff; in a database of their own. */
export async function packageRows(): Promise<BenchRow[]> {
  const world = await openBenchWorld("content-packages");
  try {
    await seedContent();
    return await measurePackages(await benchViewers());
  } finally {
    await world.close();
  }
}

async function measurePackages({ admin, member }: { admin: Viewer; member: Viewer }): Promise<BenchRow[]> {
  const conditions: [string, PackageCondition][] = [
    // Half of all versions (every version has openssl).
    ["common/half", { name: "openssl", op: "<", version: "1.10.0" }],
    // One version of openssl in twenty: few hits, scattered.
    ["common/few", { name: "openssl", op: "<", version: "1.1.0" }],
    // A name in ~14% of versions, about half of those.
    ["pooled/half", { name: "pkg400", op: "<", version: "1.10.0" }],
    // Nothing matches.
    ["none", { name: "openssl", op: "<", version: "0.1" }],
    // An epoch in the bound: rpm's epoch-1 packages sort after every epoch-0 bound.
    ["epoch", { name: "pkg10", op: ">=", version: "1:1.5.0" }],
  ];
  const searches: Record<string, number[]> = {};
  for (const [label, condition] of conditions) {
    for (const [who, viewer] of [
      ["admin", admin],
      ["member", member],
    ] as const) {
      searches[`${label}/${who}`] = await sample(() => searchPackageVersions({ viewer, condition, limit: PAGE }));
    }
  }
  const hits = await searchPackageVersions({ viewer: admin, condition: conditions[0]![1], limit: PAGE });
  if (hits.rows.length !== PAGE) throw new Error(`expected a full page of hits, got ${hits.rows.length}`);
  const listAdmin = await sample(() =>
    listCatalogVersions({ viewer: admin, sort: "updated", order: "desc", limit: PAGE }),
  );
  const listMember = await sample(() =>
    listCatalogVersions({ viewer: member, sort: "updated", order: "desc", limit: PAGE }),
  );
  const allSearches = Object.values(searches).flat();
  const searchP95 = percentile(allSearches, 95);
  const listP95 = Math.max(percentile(listAdmin, 95), percentile(listMember, 95));
  console.log(
    "package search p95 (ms):",
    Object.fromEntries(Object.entries(searches).map(([key, values]) => [key, percentile(values, 95).toFixed(2)])),
  );
  console.log("catalog list p95 (ms):", {
    admin: percentile(listAdmin, 95).toFixed(2),
    member: percentile(listMember, 95).toFixed(2),
  });

  const pair = await db().execute<{ sha256: string }>(
    sql`select v.sha256 from image_versions v join content_scans s on s.sha256 = v.sha256 where s.distro = 'debian' order by v.created_at limit 2`,
  );
  const [fromSha256, toSha256] = pair.rows.map((row) => row.sha256) as [string, string];
  const diff = await diffPackages({ fromSha256, toSha256 });
  if (!diff) throw new Error("the diff found no finished scans");
  console.log("diff of two versions:", {
    added: diff.added.length,
    removed: diff.removed.length,
    upgraded: diff.upgraded.length,
    downgraded: diff.downgraded.length,
    unchanged: diff.unchanged,
  });
  const diffs = await sample(() => diffPackages({ fromSha256, toSha256 }));
  const diffP95 = percentile(diffs, 95);

  return [
    {
      metric: "package_search_p95_ms",
      value: searchP95,
      unit: "ms",
      anchor: 100,
      ratio: searchP95 / 100,
      target: "<= 100 ms",
      pass: searchP95 <= 100,
    },
    {
      metric: "package_search_vs_list",
      value: searchP95,
      unit: "ms",
      anchor: listP95,
      ratio: searchP95 / listP95,
      target: "report (p95 vs p95)",
      pass: true,
    },
    {
      metric: "package_search_p50_vs_list_p50",
      value: median(allSearches),
      unit: "ms",
      anchor: median([...listAdmin, ...listMember]),
      ratio: median(allSearches) / median([...listAdmin, ...listMember]),
      target: "report",
      pass: true,
    },
    {
      metric: "package_diff_ms",
      value: diffP95,
      unit: "ms",
      anchor: 50,
      ratio: diffP95 / 50,
      target: "<= 50 ms (p95)",
      pass: diffP95 <= 50,
    },
  ];
}

/** Each group of rows opens (and closes) its own database and data directory. */
/** Package search and diff (a seeded catalog), then the content job and the boot test on the real Debian fixture. */
export async function run(): Promise<BenchRow[]> {
  const { inspectRows } = await import("./content-inspect");
  const { bootRows } = await import("./content-boot");
  return [...(await packageRows()), ...(await inspectRows()), ...(await bootRows())];
}
