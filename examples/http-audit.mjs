// The graphql-http server audit against a live server: node http-audit.mjs <graphql url>
// Exits non-zero when any MUST audit fails; prints every result so SHOULD failures show too.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node http-audit.mjs http://127.0.0.1:8000/graphql");
  process.exit(2);
}

let mustFailures = 0;
let shouldWarnings = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const reason = result.status === "ok" ? "" : ` — ${result.reason}`;
  console.log(`${result.status.padEnd(5)} ${audit.name}${reason}`);
  if (result.status === "error") mustFailures += 1;
  if (result.status === "warn") shouldWarnings += 1;
}
console.log(`\n${mustFailures} MUST audits failed, ${shouldWarnings} SHOULD audits warned`);
process.exit(mustFailures === 0 ? 0 : 1);
