import { APP_ORIGIN } from "./env";
import { startOidcProvider } from "./oidc-provider";

export default async function globalSetup() {
  return startOidcProvider({ appOrigin: APP_ORIGIN });
}
