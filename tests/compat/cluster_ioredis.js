#!/usr/bin/env node
// ioredis's Cluster client against a fresh 3-master Shoal cluster.
//
// Starts three Shoal nodes (free client and bus ports, one temp dir each), forms the cluster with
// `redis-cli --cluster create`, runs the checks, and kills the servers by PID at the end, also on
// failure. Exits 0 when every check passed.
//
//   SHOAL_SERVER=target/release/shoal-server node tests/compat/cluster_ioredis.js
//
// ioredis sends single commands as they are (the server answers CROSSSLOT) but refuses
// pipelines/transactions over several slots client-side; the server's answer to a cross-slot
// MULTI/EXEC is checked over a plain connection to one node.
"use strict";

const { spawn, execFileSync } = require("child_process");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const Redis = require("ioredis");
const calculateSlot = require("cluster-key-slot");

const ROOT = path.resolve(__dirname, "..", "..");
const SHOAL = process.env.SHOAL_SERVER || path.join(ROOT, "target", "release", "shoal-server");
const REDIS_CLI = process.env.REDIS_CLI || "redis-cli";
const CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";

const procs = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shoal-cluster-ioredis-"));

function cleanup() {
  for (const p of procs) {
    try {
      process.kill(p.pid, "SIGKILL"); // by PID
    } catch (_) {}
  }
  procs.length = 0;
  fs.rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(1));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ping(port) {
  const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on("error", () => {});
  try {
    await c.connect();
    return (await c.ping()) === "PONG";
  } catch (_) {
    return false;
  } finally {
    c.disconnect();
  }
}

async function startNode(i) {
  const port = await freePort();
  const cport = await freePort();
  const d = path.join(dir, String(i));
  fs.mkdirSync(d, { recursive: true });
  const log = fs.openSync(path.join(d, "log.txt"), "a");
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
    "--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--cluster-port", String(cport), "--dir", d];
  const p = spawn(SHOAL, args, { stdio: ["ignore", log, log] });
  procs.push(p);
  for (let t = 0; t < 500; t++) {
    if (await ping(port)) return port;
    await sleep(20);
  }
  throw new Error(`node ${i} did not start: ${fs.readFileSync(path.join(d, "log.txt"), "utf8")}`);
}

let failures = 0;
let checks = 0;
function check(cond, what) {
  checks++;
  if (!cond) {
    failures++;
    console.error(`FAIL: ${what}`);
  }
}
function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: got ${a}, want ${e}`);
}
async function rejects(promise, re, what) {
  try {
    const v = await promise;
    check(false, `${what}: resolved with ${JSON.stringify(v)}, want error ${re}`);
    return null;
  } catch (e) {
    check(re.test(e.message), `${what}: error ${JSON.stringify(e.message)} does not match ${re}`);
    return e;
  }
}

async function main() {
  if (!fs.existsSync(SHOAL)) throw new Error(`${SHOAL} is not built`);
  const ports = [];
  for (let i = 0; i < 3; i++) ports.push(await startNode(i));
  const out = execFileSync(REDIS_CLI, ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-yes"], {
    encoding: "utf8",
    timeout: 60000,
  });
  if (!out.includes("[OK] All 16384 slots covered.")) throw new Error(`cluster create failed:\n${out}`);
  for (const p of ports) {
    const c = new Redis({ port: p, host: "127.0.0.1" });
    for (let t = 0; ; t++) {
      const info = await c.cluster("INFO");
      if (info.includes("cluster_state:ok")) break;
      if (t > 300) throw new Error(`cluster_state not ok on ${p}`);
      await sleep(100);
    }
    c.disconnect();
  }

  const cluster = new Redis.Cluster([{ host: "127.0.0.1", port: ports[0] }], { redisOptions: { maxRetriesPerRequest: 2 } });
  await new Promise((resolve, reject) => {
    cluster.once("ready", resolve);
    cluster.once("error", reject);
  });
  try {
    // Slot owner -> port, from ioredis's own slot map.
    const ownerPort = (key) => Number(cluster.slots[calculateSlot(key)][0].split(":")[1]);
    const direct = (port) => new Redis({ port, host: "127.0.0.1" });

    // 1. 10,000 keys over all slots, written and read back through the cluster client.
    const N = 10000;
    let p = cluster.pipeline();
    // ioredis pipelines must stay within one node, so write with plain concurrent commands.
    const sets = [];
    for (let i = 0; i < N; i++) sets.push(cluster.set(`key:${i}`, `value:${i}`));
    const setRes = await Promise.all(sets);
    eq(setRes.filter((r) => r !== "OK").length, 0, "10,000 SETs answered OK");
    const gets = [];
    for (let i = 0; i < N; i++) gets.push(cluster.get(`key:${i}`));
    const getRes = await Promise.all(gets);
    eq(getRes.filter((v, i) => v !== `value:${i}`).length, 0, "10,000 GETs read back");
    const sizes = [];
    for (const port of ports) {
      const c = direct(port);
      sizes.push(await c.dbsize());
      c.disconnect();
    }
    eq(sizes.reduce((a, b) => a + b, 0), N, `keys over the nodes ${sizes}`);
    check(sizes.every((s) => s > N / 5), `every master holds a share of the keys: ${sizes}`);
    const slots = new Set();
    for (let i = 0; i < N; i++) slots.add(calculateSlot(`key:${i}`));
    check(slots.size > 7000, `keys spread over ${slots.size} slots`);
    // Pipelines within one node's slots work.
    p = cluster.pipeline();
    for (let i = 0; i < 20; i++) p.get(`{pipe}${i}`).set(`{pipe}${i}`, i);
    const pres = await p.exec();
    eq(pres.filter(([err]) => err).length, 0, "single-slot pipeline");

    // 2. CROSSSLOT: ioredis sends these as one command; the server answers.
    for (const cmd of [["mset", "a", "1", "b", "2"], ["mget", "a", "b"], ["sinterstore", "d", "a", "b"], ["del", "a", "b"]]) {
      await rejects(cluster.call(...cmd), new RegExp(`^${CROSSSLOT}$`), `cluster ${cmd[0]} over two slots`);
    }
    for (const port of ports) {
      const c = direct(port);
      await rejects(c.mset("a", "1", "b", "2"), new RegExp(`^${CROSSSLOT}$`), `MSET on node ${port}`);
      c.disconnect();
    }
    // Transactions and pipelines over two slots are refused by ioredis itself.
    await rejects(cluster.multi().set("a", "1").set("b", "2").exec(), /same slots allocation group/, "cluster multi over two slots");
    await rejects(cluster.pipeline().set("a", "1").set("b", "2").exec(), /same slots allocation group/, "cluster pipeline over two slots");
    // On the wire to one node owning both slots: EXEC answers CROSSSLOT and discards everything.
    const a = "a";
    let b = null;
    for (let i = 0; i < 1000 && b === null; i++) {
      const k = `b${i}`;
      if (calculateSlot(k) !== calculateSlot(a) && ownerPort(k) === ownerPort(a)) b = k;
    }
    const owner = direct(ownerPort(a));
    await owner.del(a);
    await owner.del(b);
    const txErr = await rejects(owner.multi().set(a, "1").set(b, "2").exec(), /EXECABORT|CROSSSLOT/, "MULTI/EXEC over two slots on one node");
    if (process.env.VERBOSE) console.log("cross-slot EXEC:", txErr && txErr.message, txErr && txErr.previousErrors);
    if (txErr) {
      // ioredis reports EXEC's error reply itself as the rejection reason.
      check(txErr.message.includes(CROSSSLOT), `EXEC error is CROSSSLOT: ${txErr.message}`);
    }
    eq([await owner.exists(a), await owner.exists(b)], [0, 0], "cross-slot transaction discarded");

    // 3. Hash tags.
    eq(await cluster.mset("{user:42}:name", "ann", "{user:42}:age", "7"), "OK", "MSET with hash tag");
    eq(await cluster.mget("{user:42}:name", "{user:42}:age", "{user:42}:none"), ["ann", "7", null], "MGET with hash tag");
    await cluster.sadd("{user:42}:s1", "a", "b", "c");
    await cluster.sadd("{user:42}:s2", "b", "c", "d");
    eq(await cluster.sinterstore("{user:42}:s3", "{user:42}:s1", "{user:42}:s2"), 2, "SINTERSTORE with hash tag");
    eq((await cluster.smembers("{user:42}:s3")).sort(), ["b", "c"], "SINTERSTORE result");
    const tx = await cluster
      .multi()
      .set("{user:42}:n", "10")
      .incr("{user:42}:n")
      .get("{user:42}:n")
      .sinterstore("{user:42}:s4", "{user:42}:s1", "{user:42}:s3")
      .exec();
    eq(tx, [[null, "OK"], [null, 11], [null, "11"], [null, 2]], "MULTI/EXEC with hash tag");
    const tp = await cluster.pipeline().incr("{user:42}:n").get("{user:42}:n").exec();
    eq(tp, [[null, 12], [null, "12"]], "pipeline with hash tag");
    const tagOwner = direct(ownerPort("{user:42}"));
    eq(await tagOwner.cluster("COUNTKEYSINSLOT", calculateSlot("{user:42}")), 7, "hash-tagged keys share a slot");
    tagOwner.disconnect();
    owner.disconnect();
  } finally {
    cluster.disconnect();
  }
}

main()
  .then(() => {
    console.log(`ioredis cluster: ${checks - failures} of ${checks} checks passed`);
    cleanup();
    process.exit(failures ? 1 : 0);
  })
  .catch((e) => {
    console.error("FAIL:", e);
    cleanup();
    process.exit(1);
  });
