import { isAdmin } from "@/db/queries/access";
import { Badge } from "@/components/ui/badge";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { getViewer } from "@/lib/auth/session";
import { listThrottledAccounts } from "@/lib/auth/sign-in-guard";
import { UnlockSignInButton } from "./unlock-sign-in-button";

/**
 * Accounts whose failed password sign-ins reached the throttle (locked now, or locked again by
 * their next failure), with an unlock for each. Emails with no account are listed too: guesses at
 * them are throttled alike, and a run of them is what spraying looks like.
 */
export async function LockedAccounts() {
  const viewer = await getViewer();
  // The page is admin-only; this list of who is being guessed at must not leak through another one.
  if (!isAdmin(viewer)) return null;
  const now = new Date();
  const rows = await listThrottledAccounts({ now });
  return (
    <section aria-labelledby="locked-accounts-title" className="space-y-2">
      <h2 id="locked-accounts-title" className="text-base font-semibold">
        Sign-in locks
      </h2>
      <p className="text-sm text-muted">
        After five failed password sign-ins in a row an account waits before each further attempt (1 s, doubling, up to
        15 minutes); a successful sign-in or an unlock ends it.
      </p>
      {rows.length === 0 ? (
        <p className="text-sm">No account is throttled.</p>
      ) : (
        <Table label="Throttled accounts">
          <thead>
            <tr>
              <Th>Email</Th>
              <Th>Failures</Th>
              <Th>Locked until</Th>
              <Th>Last failure</Th>
              <Th>Last address</Th>
              <Th>
                <span className="sr-only">Actions</span>
              </Th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <Tr key={row.email}>
                <Td>
                  {row.email} {row.userId ? null : <Badge>no such account</Badge>}
                </Td>
                <Td>{row.failures}</Td>
                <Td>
                  {row.lockedUntil && row.lockedUntil > now ? (
                    <RelativeTime date={row.lockedUntil} />
                  ) : (
                    <span className="text-muted">may try now</span>
                  )}
                </Td>
                <Td>
                  <RelativeTime date={row.lastFailureAt} />
                </Td>
                <Td className="font-mono text-xs">{row.lastAddress ?? "—"}</Td>
                <Td className="text-right">
                  <UnlockSignInButton email={row.email} />
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
