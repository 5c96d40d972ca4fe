import { Auth, setEnvDefaults } from "@auth/core";
import NextAuth, { CredentialsSignin, type NextAuthConfig } from "next-auth";
import type { Provider } from "next-auth/providers";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { authAdapter } from "@/db/auth-adapter";
import { recordSignIn } from "@/db/queries/accounts";
import { recordAudit } from "@/db/queries/audit";
import { acceptInvitations } from "@/db/queries/projects";
import { grantAdminRole, isAccountDisabled } from "@/db/queries/users";
import { env } from "@/lib/env";
import { clientAddressOf } from "./client-address";
import { attemptPasswordSignIn } from "./sign-in-guard";
import { throttledCode } from "./sign-in-messages";

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  password: z.string().min(1).max(1024),
});

class InvalidCredentials extends CredentialsSignin {
  code = "invalid_credentials";
}

/** Its code carries when to retry (lib/auth/sign-in-messages.ts). */
class ThrottledSignIn extends CredentialsSignin {
  constructor(code: string) {
    super();
    this.code = code;
  }
}

function providers(): Provider[] {
  const list: Provider[] = [
    Credentials({
      id: "credentials",
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, request) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) throw new InvalidCredentials();
        const result = await attemptPasswordSignIn({ ...parsed.data, address: clientAddressOf(request) });
        if (result.ok) return result.user;
        if (result.throttled)
          throw new ThrottledSignIn(throttledCode(result.throttled.scope, result.throttled.retryAfterSeconds));
        throw new InvalidCredentials();
      },
    }),
  ];
  const config = env();
  if (config.oidcEnabled) {
    list.push({
      id: "oidc",
      name: config.HANGAR_OIDC_NAME,
      type: "oidc",
      issuer: config.HANGAR_OIDC_ISSUER,
      clientId: config.HANGAR_OIDC_CLIENT_ID,
      clientSecret: config.HANGAR_OIDC_CLIENT_SECRET,
      authorization: { params: { scope: "openid email profile" } },
      checks: ["pkce", "state", "nonce"],
      // Many providers put email and name only in userinfo, not in the ID token: read userinfo.
      idToken: false,
    });
  }
  return list;
}

const authConfig = (): NextAuthConfig => ({
  adapter: authAdapter(),
  providers: providers(),
  session: { strategy: "jwt", maxAge: env().AUTH_SESSION_MAX_AGE },
  trustHost: true,
  pages: { signIn: "/sign-in", error: "/sign-in" },
  callbacks: {
    async signIn({ user, account }) {
      // Accounts are matched by email; a provider that shares none can't be given an account.
      if (account?.provider === "oidc" && !user.email) return false;
      // Before a first OIDC sign-in, user.id is the provider's subject, not ours: look up by email.
      const email = user.email?.toLowerCase();
      if (!email) return true;
      return !(await isAccountDisabled({ email }));
    },
    jwt({ token, user }) {
      if (user?.id) token.uid = user.id;
      return token;
    },
    session({ session, token }) {
      if (typeof token.uid === "string") session.user.id = token.uid;
      return session;
    },
  },
  events: {
    async createUser({ user }) {
      if (!user.id) return;
      const email = user.email?.toLowerCase();
      if (email && env().HANGAR_OIDC_ADMIN_EMAILS.includes(email)) {
        await grantAdminRole({ userId: user.id });
      }
      await recordAudit({
        actorId: user.id,
        action: "user.create",
        objectType: "user",
        objectId: user.id,
        after: { email },
      });
    },
    async signIn({ user, account }) {
      if (!user.id) return;
      // Invitations sent before this person had an account become memberships now.
      if (user.email) await acceptInvitations({ userId: user.id, email: user.email });
      await recordSignIn({ userId: user.id });
      await recordAudit({
        actorId: user.id,
        action: "user.sign_in",
        objectType: "user",
        objectId: user.id,
        after: { provider: account?.provider ?? "credentials" },
      });
    },
  },
});

export const { auth, signIn, signOut } = NextAuth(authConfig);

/**
 * /api/auth/*: Auth.js on a plain Request whose origin is the configured one. next-auth's own
 * handlers rebuild the request as a NextRequest, and Next.js rewrites a loopback host such as
 * 127.0.0.1 to "localhost" in every NextRequest URL; with AUTH_URL=http://127.0.0.1:PORT the
 * sign-in (a server action, which keeps AUTH_URL as it is) then asked the provider for
 * redirect_uri=http://127.0.0.1:PORT/... and the callback exchanged the code with
 * redirect_uri=http://localhost:PORT/... (invalid_grant).
 */
export async function authRouteHandler(request: Request): Promise<Response> {
  const config = { ...authConfig(), basePath: "/api/auth" };
  setEnvDefaults(process.env, config, true);
  const url = new URL(request.url);
  const body = request.method === "POST" ? await request.text() : undefined;
  return Auth(
    new Request(new URL(`${url.pathname}${url.search}`, env().origin), {
      method: request.method,
      headers: request.headers,
      body,
    }),
    config,
  );
}
