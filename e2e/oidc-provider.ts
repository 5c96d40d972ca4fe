// A real OpenID Connect provider on loopback for the browser tests (oidc-provider with its
// development login screen: any login name becomes the account, with an email derived from it).
import Provider from "oidc-provider";
import type { Server } from "node:http";

// Beside the app's port (E2E_PORT), so two checkouts can run the browser tests at once.
export const OIDC_PORT = Number(process.env.E2E_PORT ?? 3210) + 1;
export const OIDC_ISSUER = `http://127.0.0.1:${OIDC_PORT}`;
export const OIDC_CLIENT_ID = "hangar-e2e";
export const OIDC_CLIENT_SECRET = "hangar-e2e-client-secret-not-for-production";

export const oidcEmailOf = (login: string) => `${login}@oidc.test`;

export async function startOidcProvider({ appOrigin }: { appOrigin: string }): Promise<() => Promise<void>> {
  const provider = new Provider(OIDC_ISSUER, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        redirect_uris: [`${appOrigin}/api/auth/callback/oidc`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    cookies: { keys: ["hangar-e2e-cookie-key"] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: oidcEmailOf(id), email_verified: true, name: `OIDC ${id}` };
        },
      };
    },
  });
  provider.proxy = false;
  // The provider answers a refused token request with a bare invalid_grant; the reason (such as a
  // redirect_uri that differs from the authorization request's) only shows here.
  provider.on("grant.error", (_ctx, error) =>
    console.error(
      `[oidc] token request refused: ${(error as { error_detail?: string }).error_detail ?? error.message}`,
    ),
  );
  const server: Server = await new Promise((resolve) => {
    const listening = provider.listen(OIDC_PORT, "127.0.0.1", () => resolve(listening));
  });
  return () => new Promise((resolve) => server.close(() => resolve()));
}
