#!/usr/bin/env node
// Subscribes to a GraphQL operation over graphql-transport-ws with the real
// graphql-ws client and prints one JSON line per event to stdout:
//
//   {"type":"connected"}                          connection_ack received
//   {"type":"next","payload":{...}}               one per next message
//   {"type":"error","errors":[...]}               the server's error message
//   {"type":"error","code":4403,"reason":"..."}   the socket closed the operation
//   {"type":"error","message":"..."}              any other failure
//   {"type":"complete"}                           the operation completed
//   {"type":"closed","code":1000,"reason":"..."}  the socket closed
//
// Settings come from flags or, for each flag left out, the environment:
//
//   --url URL                 URL               ws://host:port/query (required)
//   --token TOKEN             TOKEN             sent as connectionParams
//                                               {Authorization: "Bearer TOKEN"}
//   --query QUERY             QUERY             the GraphQL document (required)
//   --variables JSON          VARIABLES         variables as a JSON object
//   --max-events N            MAX_EVENTS        dispose after N next events
//                                               (0 or unset: no limit)
//   --retry-attempts N        RETRY_ATTEMPTS    graphql-ws retryAttempts (default 0)
//   --timeout-ms N            TIMEOUT_MS        give up after N ms (default 60000)
//
// Exit status: 0 after complete or after MAX_EVENTS next events, 1 after an
// error, 2 for bad usage or the timeout.
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    query: { type: 'string' },
    variables: { type: 'string' },
    'max-events': { type: 'string' },
    'retry-attempts': { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
});

const env = process.env;
const setting = (flag, name) => flags[flag] ?? env[name] ?? '';

function usage(message) {
  process.stderr.write(`subscribe.mjs: ${message}\n`);
  process.exit(2);
}

function count(flag, name, fallback) {
  const raw = setting(flag, name);
  if (raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) usage(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

const url = setting('url', 'URL');
const token = setting('token', 'TOKEN');
const query = setting('query', 'QUERY');
if (!url) usage('URL is required');
if (!query) usage('QUERY is required');
let variables;
const rawVariables = setting('variables', 'VARIABLES');
if (rawVariables !== '') {
  try {
    variables = JSON.parse(rawVariables);
  } catch (err) {
    usage(`VARIABLES is not JSON: ${err.message}`);
  }
  if (variables === null || typeof variables !== 'object' || Array.isArray(variables)) {
    usage('VARIABLES must be a JSON object');
  }
}
const maxEvents = count('max-events', 'MAX_EVENTS', 0);
const retryAttempts = count('retry-attempts', 'RETRY_ATTEMPTS', 0);
const timeoutMs = count('timeout-ms', 'TIMEOUT_MS', 60000);

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

// A CloseEvent from ws, or anything shaped like one.
const isCloseEvent = (v) => v !== null && typeof v === 'object' && typeof v.code === 'number';

let socketOpen = false;
let onSocketClosed = () => {};

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts,
  on: {
    opened: () => {
      socketOpen = true;
    },
    connected: () => emit({ type: 'connected' }),
    closed: (event) => {
      socketOpen = false;
      if (isCloseEvent(event)) emit({ type: 'closed', code: event.code, reason: String(event.reason ?? '') });
      else emit({ type: 'closed' });
      onSocketClosed();
    },
  },
});

let finished = false;
let unsubscribe = () => {};

// finish disposes the client and exits once the socket has closed (so that
// its closed line is printed; at most a second) and stdout has drained.
function finish(code) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  const exit = () => process.stdout.write('', () => process.exit(code));
  if (socketOpen) {
    const giveUp = setTimeout(exit, 1000);
    onSocketClosed = () => {
      clearTimeout(giveUp);
      exit();
    };
  } else {
    setImmediate(exit);
  }
  unsubscribe();
  client.dispose();
}

const timer = setTimeout(() => {
  emit({ type: 'error', message: `timeout after ${timeoutMs} ms` });
  finish(2);
}, timeoutMs);

let events = 0;
unsubscribe = client.subscribe(
  { query, variables },
  {
    next: (payload) => {
      if (finished) return;
      emit({ type: 'next', payload });
      events++;
      if (maxEvents > 0 && events >= maxEvents) finish(0);
    },
    error: (err) => {
      if (isCloseEvent(err)) emit({ type: 'error', code: err.code, reason: String(err.reason ?? '') });
      else if (Array.isArray(err)) emit({ type: 'error', errors: err });
      else if (err !== null && typeof err === 'object' && typeof err.message === 'string') emit({ type: 'error', message: err.message });
      else emit({ type: 'error', message: String(err) });
      finish(1);
    },
    complete: () => {
      if (finished) return;
      emit({ type: 'complete' });
      finish(0);
    },
  },
);
