// Composes the subgraph SDLs of a directory (written by
// `commerce graphql subgraphs DIR`) with Apollo's composition library,
// the one rover and Apollo Router use, and fails on any composition
// error: the graph the binary's own gateway composes must compose there
// too. Hints are counted (listed with HINTS=1), not fatal.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, basename } from "node:path";
import { parse } from "graphql";
import { composeServices } from "@apollo/composition";

const [dir, out] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node compose.mjs DIR [SUPERGRAPH_OUT]");
  process.exit(2);
}
const files = readdirSync(dir).filter((f) => f.endsWith(".graphql")).sort();
if (files.length === 0) {
  console.error(`no .graphql file in ${dir}`);
  process.exit(2);
}
const services = files.map((f) => {
  const name = basename(f, ".graphql");
  return { name, url: `http://${name}/internal/graphql/${name}`, typeDefs: parse(readFileSync(join(dir, f), "utf8")) };
});
const result = composeServices(services);
const hints = result.hints ?? [];
if (process.env.HINTS === "1") for (const h of hints) console.log(`hint: ${h.toString()}`);
if (result.errors && result.errors.length > 0) {
  for (const e of result.errors) console.error(`error: ${e.message}`);
  console.error(`Apollo composition failed for ${services.map((s) => s.name).join(", ")}`);
  process.exit(1);
}
if (out) writeFileSync(out, result.supergraphSdl);
console.log(`Apollo composition: ok (${services.length} subgraphs: ${services.map((s) => s.name).join(", ")}; ${hints.length} hints, HINTS=1 lists them)`);
