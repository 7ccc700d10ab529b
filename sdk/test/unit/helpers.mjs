// Shared fixtures: the demo site's configuration and the sample GVL the
// server embeds, trimmed to the site's vendors as config.json sends it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const assets = fileURLToPath(new URL("../../../crates/server/assets/", import.meta.url));
export const demoConfig = JSON.parse(readFileSync(assets + "demo-site.json", "utf8"));
const gvl = JSON.parse(readFileSync(assets + "gvl-sample.json", "utf8"));
export const vendorList = {
  ...gvl,
  vendors: Object.fromEntries(demoConfig.vendors.map((id) => [String(id), gvl.vendors[String(id)]])),
};
export const optInConfig = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../crates/server/tests/fixtures/opt-in-site.json", import.meta.url)), "utf8"),
);
