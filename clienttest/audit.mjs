#!/usr/bin/env node
// Runs the GraphQL-over-HTTP audits of graphql-http (auditServer: every MUST,
// SHOULD and MAY of the spec that a client can check) against a server and
// prints one JSON line per audit to stdout, then a summary line:
//
//   {"id":"4655","name":"MUST accept application/json and match the content-type","status":"ok"}
//   {"id":"572B","name":"SHOULD use 200 status code ...","status":"warn","reason":"...","response":{"status":422,"body":"..."}}
//   {"summary":{"total":61,"ok":60,"notice":0,"warn":1,"error":0}}
//
// status is "ok", or for a failed audit "error" (a MUST), "warn" (a SHOULD)
// or "notice" (a MAY); a failure carries the audit's reason and the HTTP
// status and body of the response it failed on.
//
// Settings come from flags or, for each flag left out, the environment:
//
//   --url URL        URL      http://host:port/query (required)
//   --token TOKEN    TOKEN    sent on every request as Authorization: Bearer TOKEN
//
// Exit status: 0 when every audit is ok, 1 when any is not, 2 for bad usage
// or when the audit itself could not run (the server unreachable).
import { parseArgs } from 'node:util';
import { auditServer } from 'graphql-http';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
  },
});

const env = process.env;
const url = flags.url ?? env.URL ?? '';
const token = flags.token ?? env.TOKEN ?? '';
if (!url) {
  process.stderr.write('audit.mjs: URL is required\n');
  process.exit(2);
}

// The audits name their own headers; the token is added to each request.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

// A failed audit's response body, cut short so that one line stays readable.
const maxBody = 2048;

async function line(result) {
  const out = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    out.reason = result.reason;
    let body = '';
    try {
      body = await result.response.text();
    } catch {
      // the audit read the body already; the reason says enough
    }
    if (body.length > maxBody) body = `${body.slice(0, maxBody)}…`;
    out.response = { status: result.response.status, body };
  }
  return out;
}

let results;
try {
  results = await auditServer({ url, fetchFn });
} catch (err) {
  process.stderr.write(`audit.mjs: the audit could not run: ${err?.stack ?? err}\n`);
  process.exit(2);
}

const summary = { total: results.length, ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  summary[result.status]++;
  process.stdout.write(`${JSON.stringify(await line(result))}\n`);
}
process.stdout.write(`${JSON.stringify({ summary })}\n`);
process.exit(summary.ok === summary.total ? 0 : 1);
