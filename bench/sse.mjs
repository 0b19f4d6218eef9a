#!/usr/bin/env node
// Benchmark of the live-update stream GET /api/v1/events (Server-Sent Events) against a running
// Atrium server. Node 20, built-in modules only.
//
//   node bench/sse.mjs --pid PID [--base http://127.0.0.1:18090] [--connections 1000]
//                      [--writes 50] [--interval 200] [--label SQLite]
//
// 1. signs in once as the demo client user and once as staff (two logins: the session endpoint
//    is rate limited per account);
// 2. opens N streams as the client user, all with the same token, in two waves of N/2 opened at
//    once, and waits for every `ready`; the server's RSS (VmRSS of --pid) is read once steady
//    after a warm-up, after the first wave and once all are connected: (after - before) / N is
//    the memory per connection, (after - middle) / (N/2) a cross-check;
// 3. makes M writes, one every --interval ms: PATCH of a task the client can see, status
//    alternating todo/in_progress, as staff; for each stream, latency = arrival of the matching
//    `task.updated` (same task id and status) - the moment just before the PATCH was sent;
// 4. prints p50/p90/p99/max over all N x M deliveries, the missed deliveries (must be 0) and a
//    Markdown table row.
//
// Arrival times are taken when a chunk reaches this process's event loop, so they include the
// client's own work for the 1,000 sockets (same machine as the server).

import http from 'node:http';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const args = parseArgs(process.argv.slice(2), {
  base: 'http://127.0.0.1:18090',
  connections: '1000',
  writes: '50',
  interval: '200',
  pid: '',
  label: '',
  'client-email': 'client@acme.test',
  'staff-email': 'ana@northwind.test',
  password: 'atrium-demo-2026',
  drain: '10000', // ms to wait for late deliveries after the last write
  'connect-timeout': '60000',
});
const N = Number(args.connections);
const M = Number(args.writes);
const INTERVAL = Number(args.interval);
const PID = args.pid ? Number(args.pid) : null;
const base = new URL(args.base);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [k, v] = a.includes('=') ? a.slice(2).split(/=(.*)/s) : [a.slice(2), argv[++i]];
    if (!(k in defaults)) throw new Error(`unknown flag --${k}`);
    out[k] = v;
  }
  return out;
}

function log(...a) {
  console.error(`[${(performance.now() / 1000).toFixed(1)}s]`, ...a);
}

// One HTTP request with a JSON body/answer.
function request(method, path, { token, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (data !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(data);
    }
    const req = http.request({ host: base.hostname, port: base.port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('error', reject);
    req.sentAt = performance.now();
    req.end(data);
  });
}

async function must(method, path, opts, expect = [200]) {
  const r = await request(method, path, opts);
  if (!expect.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

function procStatus(pid) {
  if (!pid) return null;
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1]);
  let fds = null;
  try { fds = fs.readdirSync(`/proc/${pid}/fd`).length; } catch { /* not ours */ }
  return { rss: kib('VmRSS'), threads: kib('Threads'), fds };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The server's status once its RSS has stopped moving (3 reads 500 ms apart within 64 KiB, at
// most 20 s), poking it with a request per read when a token is given.
async function steadyStatus(token) {
  if (!PID) return null;
  let prev = procStatus(PID);
  let steady = 0;
  for (let i = 0; i < 40 && steady < 3; i++) {
    if (token) await must('GET', '/api/v1/projects', { token });
    await sleep(500);
    const cur = procStatus(PID);
    steady = Math.abs(cur.rss - prev.rss) <= 64 ? steady + 1 : 0;
    prev = cur;
  }
  return prev;
}

// ----- one SSE stream ------------------------------------------------------------------------

// writes[k] = { status, sentAt }; filled in as writes go out.
const writes = [];
let taskId = null;

class Stream {
  constructor(i, token) {
    this.i = i;
    this.token = token;
    this.buf = '';
    this.ready = false;
    this.closed = false;
    this.error = null;
    this.latencies = new Array(M).fill(null); // per write
    this.other = {}; // event kind -> count
    this.unmatched = 0; // task.updated for our task that matched no outstanding write
  }

  open() {
    return new Promise((resolve) => {
      this.resolveReady = resolve;
      const req = http.request({
        host: base.hostname, port: base.port, path: '/api/v1/events', method: 'GET', agent,
        headers: { accept: 'text/event-stream', authorization: `Bearer ${this.token}` },
      }, (res) => {
        if (res.statusCode !== 200) {
          this.fail(`status ${res.statusCode}`);
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk) => this.onChunk(chunk, performance.now()));
        res.on('end', () => { this.closed = true; this.fail('stream ended'); });
        res.on('error', (e) => this.fail(e.message));
      });
      req.on('error', (e) => this.fail(e.code || e.message));
      req.end();
      this.req = req;
    });
  }

  fail(why) {
    if (!this.error) this.error = why;
    if (this.resolveReady) { this.resolveReady(false); this.resolveReady = null; }
  }

  onChunk(chunk, at) {
    this.buf += chunk;
    let cut;
    while ((cut = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, cut);
      this.buf = this.buf.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (block.split('\n').every((l) => l.startsWith(':'))) continue; // keep-alive comment
      this.onEvent(event, data.join('\n'), at);
    }
  }

  onEvent(event, data, at) {
    if (event === 'ready') {
      this.ready = true;
      if (this.resolveReady) { this.resolveReady(true); this.resolveReady = null; }
      return;
    }
    if (event !== 'task.updated') {
      this.other[event] = (this.other[event] || 0) + 1;
      return;
    }
    let d;
    try { d = JSON.parse(data); } catch { this.unmatched++; return; }
    if (d.task_id !== taskId) { this.other['task.updated(other task)'] = (this.other['task.updated(other task)'] || 0) + 1; return; }
    // The earliest write with this status, already sent, not yet delivered on this stream.
    for (let k = 0; k < writes.length; k++) {
      const w = writes[k];
      if (this.latencies[k] === null && w.status === d.status && w.sentAt <= at) {
        this.latencies[k] = at - w.sentAt;
        return;
      }
    }
    this.unmatched++;
  }

  close() {
    if (this.req) this.req.destroy();
  }
}

// ----- the run -------------------------------------------------------------------------------

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}
const ms = (x) => `${x.toFixed(1)} ms`;

async function main() {
  log(`server ${base.origin}, pid ${PID ?? '(none: no memory figures)'}, ${N} connections, ${M} writes every ${INTERVAL} ms`);
  const client = await must('POST', '/api/v1/session', { body: { email: args['client-email'], password: args.password } }, [200, 201]);
  const staff = await must('POST', '/api/v1/session', { body: { email: args['staff-email'], password: args.password } }, [200, 201]);

  // A task the client can see (first project with tasks).
  const projects = await must('GET', '/api/v1/projects', { token: client.token });
  let task = null;
  for (const p of projects.items) {
    const tasks = await must('GET', `/api/v1/projects/${p.id}/tasks`, { token: client.token });
    if (tasks.items.length) { task = tasks.items[0]; break; }
  }
  if (!task) throw new Error('the client user sees no task');
  taskId = task.id;
  log(`task ${task.id} ("${task.title}"), status ${task.status}`);

  // Warm-up: a few requests and one stream opened and closed (on PostgreSQL the first
  // subscription starts the LISTEN connection; that is per process, not per connection). The two
  // logins just hashed passwords with argon2 (19 MiB each), memory the allocator hands back to
  // the OS lazily: wait until the RSS is steady before taking the baseline.
  // Rounds of 64 concurrent requests also open the whole database pool (on SQLite each pooled
  // connection is a thread with its own page cache), which is per process, not per stream.
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 64 }, () => must('GET', '/api/v1/projects', { token: client.token })));
  }
  const warm = new Stream(-1, client.token);
  if (!(await warm.open())) throw new Error(`warm-up stream failed: ${warm.error}`);
  warm.close();
  const before = await steadyStatus(client.token);
  if (before) log(`server before: RSS ${before.rss} KiB, ${before.threads} threads, ${before.fds} fds`);

  // Open N streams, in two waves of N/2 each opened all at once; the RSS after the first wave
  // gives a second estimate of the cost per connection (the slope between N/2 and N), which does
  // not depend on the baseline.
  const t0 = performance.now();
  const streams = Array.from({ length: N }, (_, i) => new Stream(i, client.token));
  const half = Math.floor(N / 2);
  const openAll = async (list) => {
    const timeout = sleep(Number(args['connect-timeout'])).then(() => 'timeout');
    return Promise.race([Promise.all(list.map((s) => s.open())), timeout]);
  };
  let timedOut = (await openAll(streams.slice(0, half))) === 'timeout';
  const firstWaveMs = performance.now() - t0;
  const mid = await steadyStatus(null);
  const t1 = performance.now();
  timedOut = (await openAll(streams.slice(half))) === 'timeout' || timedOut;
  const connectMs = firstWaveMs + (performance.now() - t1);
  const readyCount = streams.filter((s) => s.ready).length;
  const errors = {};
  for (const s of streams) if (s.error) errors[s.error] = (errors[s.error] || 0) + 1;
  log(`${readyCount}/${N} streams ready (${ms(firstWaveMs)} + ${ms(connectMs - firstWaveMs)})${timedOut ? ' (timed out)' : ''}` +
    (Object.keys(errors).length ? `; errors: ${JSON.stringify(errors)}` : ''));
  if (errors['status 429']) log('429: the server caps streams per user (atrium serve --max-streams-per-user, default 20)');
  const after = await steadyStatus(null);
  let perConn = NaN;
  let slope = NaN;
  if (after) {
    perConn = (after.rss - before.rss) / Math.max(readyCount, 1);
    slope = (after.rss - mid.rss) / Math.max(N - half, 1);
    log(`server at N/2: RSS ${mid.rss} KiB; after: RSS ${after.rss} KiB, ${after.threads} threads, ${after.fds} fds` +
      ` -> ${perConn.toFixed(1)} KiB per connection (slope N/2..N: ${slope.toFixed(1)} KiB)`);
  }

  // M writes, one every INTERVAL ms (on a fixed schedule, not waiting for the previous answer).
  let status = task.status === 'in_progress' ? 'todo' : 'in_progress';
  const patchMs = [];
  const pending = [];
  const start = performance.now();
  for (let k = 0; k < M; k++) {
    const due = start + k * INTERVAL;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const w = { status, sentAt: performance.now() };
    writes.push(w);
    pending.push(request('PATCH', `/api/v1/tasks/${taskId}`, { token: staff.token, body: { status } }).then((r) => {
      if (r.status !== 200) throw new Error(`PATCH ${k}: ${r.status} ${r.text.slice(0, 200)}`);
      patchMs.push(performance.now() - w.sentAt);
    }));
    status = status === 'todo' ? 'in_progress' : 'todo';
  }
  await Promise.all(pending);

  // Wait for the last deliveries.
  const live = streams.filter((s) => s.ready);
  const deadline = performance.now() + Number(args.drain);
  while (performance.now() < deadline && live.some((s) => s.latencies.some((l) => l === null))) await sleep(50);
  const afterWrites = procStatus(PID);

  // Results.
  const all = [];
  let missed = 0;
  let unmatched = 0;
  const other = {};
  for (const s of live) {
    for (const l of s.latencies) if (l === null) missed++; else all.push(l);
    unmatched += s.unmatched;
    for (const [k, v] of Object.entries(s.other)) other[k] = (other[k] || 0) + v;
  }
  missed += (N - live.length) * M; // streams that never opened miss everything
  const closedEarly = live.filter((s) => s.closed || s.error).length;
  const sorted = Float64Array.from(all).sort();
  const p = (x) => pct(sorted, x);
  patchMs.sort((a, b) => a - b);
  for (const s of streams) s.close();

  console.log(`connections ready:      ${readyCount}/${N} (two waves of N/2: ${ms(firstWaveMs)} + ${ms(connectMs - firstWaveMs)})`);
  if (Object.keys(errors).length) console.log(`connection errors:      ${JSON.stringify(errors)}`);
  console.log(`closed during the run:  ${closedEarly}`);
  if (after) {
    console.log(`server RSS:             ${before.rss} KiB before, ${after.rss} KiB with ${readyCount} streams` +
      ` (${afterWrites.rss} KiB after the writes); fds ${before.fds} -> ${after.fds}; threads ${before.threads} -> ${after.threads}`);
    console.log(`memory per connection:  ${perConn.toFixed(1)} KiB ((after - before) / N; slope between N/2 and N: ${slope.toFixed(1)} KiB)`);
  }
  console.log(`deliveries:             ${all.length} of ${N * M} (missed ${missed}, unmatched ${unmatched})`);
  if (Object.keys(other).length) console.log(`other events:           ${JSON.stringify(other)}`);
  console.log(`write -> delivery:      p50 ${ms(p(50))}, p90 ${ms(p(90))}, p99 ${ms(p(99))}, max ${ms(sorted[sorted.length - 1] ?? NaN)}`);
  console.log(`PATCH round trip:       p50 ${ms(pct(patchMs, 50))}, max ${ms(patchMs[patchMs.length - 1])}`);
  console.log('');
  console.log('| database | connections | memory per connection | p50 | p90 | p99 | max | missed |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| ${args.label || base.host} | ${readyCount.toLocaleString('en-US')} | ${after ? `${perConn.toFixed(1)} KiB` : 'n/a'} |` +
    ` ${ms(p(50))} | ${ms(p(90))} | ${ms(p(99))} | ${ms(sorted[sorted.length - 1] ?? NaN)} | ${missed} |`);
  agent.destroy();
  process.exit(missed === 0 && readyCount === N ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
