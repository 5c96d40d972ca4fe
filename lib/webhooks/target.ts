// A webhook's URL passes the same server-side request forgery rules as a URL import (lib/imports):
// http(s) only, no userinfo, the import ports, every resolved address global (or one an operator
// allows), and the request goes to the address checked. An admin may mark a webhook "allow
// internal": then loopback and private addresses and any port are accepted for it alone.
import { lookup as dnsLookup } from "node:dns/promises";
import net from "node:net";
import { checkUrl, UrlRefused, type CheckedTarget } from "@/lib/imports/url-fetch";
import { urlPolicyFromEnv } from "@/lib/imports/url-import";

async function addressesOf(hostname: string): Promise<string[]> {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (net.isIP(host)) return [host];
  return (await dnsLookup(host, { all: true, verbatim: true }).catch(() => [])).map((entry) => entry.address);
}

/** Throws UrlRefused (with a message for people) unless the URL may receive webhooks. */
export async function checkWebhookUrl(
  raw: string,
  { allowInternal }: { allowInternal: boolean },
): Promise<CheckedTarget> {
  const policy = urlPolicyFromEnv();
  try {
    if (!allowInternal) return await checkUrl(raw, policy);
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      // checkUrl below gives the message for an unparseable URL.
    }
    const port = url ? (url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80) : 0;
    const extra = url ? await addressesOf(url.hostname) : [];
    return await checkUrl(raw, {
      ...policy,
      allowedPorts: [...policy.allowedPorts, port],
      allowedAddresses: [...policy.allowedAddresses, ...extra],
    });
  } catch (error) {
    if (!(error instanceof UrlRefused)) throw error;
    // The import's wording talks of downloading; say the same thing about webhooks.
    throw new UrlRefused(webhookWording(error.userMessage), error.detail);
  }
}

function webhookWording(message: string): string {
  return message
    .replace("Paste a full http:// or https:// link to the image file.", "Use a full http:// or https:// URL.")
    .replace(
      "Only http:// and https:// links can be imported.",
      "Webhooks can only be sent to http:// and https:// URLs.",
    )
    .replace(
      "which Hangar does not download from. Use a public link, or ask an admin.",
      "which Hangar does not send webhooks to. Use a public URL, or ask an admin to allow internal addresses for this webhook.",
    )
    .replace("are allowed for imports", "are allowed for webhooks")
    .replace(
      "can't be imported; use a link that needs no login",
      "can't receive webhooks; the secret signs each delivery instead",
    );
}
