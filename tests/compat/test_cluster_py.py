"""redis-py's RedisCluster against a fresh 3-master Shoal cluster.

Each test module run starts three Shoal nodes (free client ports and free bus ports, one temp dir
each), forms the cluster with `redis-cli --cluster create`, and kills the servers by PID at the end,
also when a test fails.

What is checked (the server-side texts were compared with a redis-server 7.0.15 cluster):
- 10,000 keys written and read back through the cluster client land on every master;
- CROSSSLOT where Redis answers it: redis-py refuses multi-slot MSET/MGET/SINTERSTORE and
  cross-slot transactions client-side, so the same commands are also sent to one node directly
  and the server's `CROSSSLOT Keys in request don't hash to the same slot` is asserted, also for
  EXEC of a transaction whose queued commands touch two slots;
- hash tags ({user:42}) make MSET/MGET, SINTERSTORE and MULTI/EXEC pipelines succeed.

Run: SHOAL_SERVER=target/release/shoal-server .venv/bin/python -m pytest -q tests/compat/test_cluster_py.py
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis
from redis.cluster import RedisCluster

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOAL = os.environ.get("SHOAL_SERVER", os.path.join(ROOT, "target", "release", "shoal-server"))
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
CROSSSLOT = "Keys in request don't hash to the same slot"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def key_slot(key):
    """CRC16/XMODEM of the key (or its hash tag) mod 16384, as Redis's keyHashSlot."""
    if isinstance(key, str):
        key = key.encode()
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1 : e]
    crc = 0
    for b in key:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc & 16383


class Cluster:
    def __init__(self, n=3):
        if not os.access(SHOAL, os.X_OK):
            pytest.skip(f"{SHOAL} is not built")
        self.dir = tempfile.mkdtemp(prefix="shoal-cluster-py-")
        self.procs = []
        self.ports = []
        try:
            for i in range(n):
                self._start(i)
            out = subprocess.run(
                [REDIS_CLI, "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports], "--cluster-yes"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert "[OK] All 16384 slots covered." in out.stdout, out.stdout + out.stderr
            deadline = time.time() + 30
            for p in self.ports:
                r = redis.Redis(port=p)
                while r.cluster("info")["cluster_state"] != "ok":
                    assert time.time() < deadline, f"cluster_state not ok on {p}"
                    time.sleep(0.1)
                r.close()
        except BaseException:
            self.stop()
            raise

    def _start(self, i):
        for _attempt in range(3):
            port, cport = free_port(), free_port()
            d = os.path.join(self.dir, str(i))
            os.makedirs(d, exist_ok=True)
            log = open(os.path.join(d, "log.txt"), "ab")
            p = subprocess.Popen(
                [SHOAL, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--cluster-port", str(cport),
                 "--dir", d],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
            log.close()
            deadline = time.time() + 10
            while time.time() < deadline and p.poll() is None:
                try:
                    if redis.Redis(port=port, socket_timeout=1).ping():
                        self.procs.append(p)
                        self.ports.append(port)
                        return
                except redis.ConnectionError:
                    time.sleep(0.02)
            p.kill()
            p.wait()
        raise RuntimeError(f"shoal node {i} did not start")

    def node_for(self, key):
        """A plain connection to the master that owns `key`'s slot."""
        slot = key_slot(key)
        for start, end, master, *_ in redis.Redis(port=self.ports[0]).execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return redis.Redis(host="127.0.0.1", port=int(master[1]))
        raise AssertionError(f"no owner for slot {slot}")

    def stop(self):
        for p in self.procs:
            p.kill()  # by PID
            p.wait()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    yield c
    c.stop()


@pytest.fixture
def rc(cluster):
    client = RedisCluster(host="127.0.0.1", port=cluster.ports[0])
    yield client
    client.close()


def two_keys_same_node_different_slots(cluster):
    """Two keys owned by one master but in different slots, so the only error is CROSSSLOT."""
    a = "a"
    owner = cluster.node_for(a).connection_pool.connection_kwargs["port"]
    for i in range(1000):
        b = f"b{i}"
        if key_slot(b) != key_slot(a) and cluster.node_for(b).connection_pool.connection_kwargs["port"] == owner:
            return a, b, owner
    raise AssertionError("no second key found")


def test_ten_thousand_keys_all_nodes(cluster, rc):
    n = 10_000
    pipe = rc.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"key:{i}", f"value:{i}")
    assert pipe.execute() == [True] * n
    pipe = rc.pipeline(transaction=False)
    for i in range(n):
        pipe.get(f"key:{i}")
    assert pipe.execute() == [f"value:{i}".encode() for i in range(n)]
    # A few through single commands as well.
    for i in range(0, n, 997):
        assert rc.get(f"key:{i}") == f"value:{i}".encode()
    sizes = [redis.Redis(port=p).dbsize() for p in cluster.ports]
    assert sum(sizes) == n, sizes
    assert all(s > n // 5 for s in sizes), sizes  # spread over every master's slots
    assert len({key_slot(f"key:{i}") for i in range(n)}) > 7000
    # Every key lives on the node that owns its slot.
    for i in range(0, n, 101):
        assert cluster.node_for(f"key:{i}").get(f"key:{i}") == f"value:{i}".encode()


def test_crossslot_client_side_and_server_side(cluster, rc):
    # redis-py checks the slots itself for these commands.
    for call in (lambda: rc.mset({"a": 1, "b": 2}), lambda: rc.mget("a", "b"), lambda: rc.sinterstore("d", ["a", "b"])):
        with pytest.raises(redis.exceptions.RedisClusterException, match="all keys must map to the same key slot"):
            call()
    # Sent as one command to one node, the server answers CROSSSLOT (also before any MOVED check).
    for port in cluster.ports:
        r = redis.Redis(port=port)
        for args in (("MSET", "a", "1", "b", "2"), ("MGET", "a", "b"), ("SINTERSTORE", "d", "a", "b"), ("DEL", "a", "b")):
            with pytest.raises(redis.exceptions.ResponseError, match=f"^{CROSSSLOT}$"):
                r.execute_command(*args)
        r.close()
    node = rc.get_node_from_key("a")
    with pytest.raises(redis.exceptions.ClusterCrossSlotError, match=CROSSSLOT):
        rc.execute_command("MSET", "a", "1", "b", "2", target_nodes=node)
    # The non-atomic helpers split by slot and succeed.
    assert rc.mset_nonatomic({"a": "1", "b": "2"}) == [True, True]
    assert rc.mget_nonatomic(["a", "b"]) == [b"1", b"2"]


def test_crossslot_transaction(cluster, rc):
    # redis-py refuses a transaction over two slots before sending anything.
    p = rc.pipeline(transaction=True)
    p.set("a", 1)
    p.set("b", 2)
    with pytest.raises(redis.exceptions.RedisClusterException, match="same slot"):
        p.execute()
    # On the wire, to the node that owns both keys' slots: queued, then EXEC answers CROSSSLOT
    # and discards the transaction (as redis-server 7.0).
    a, b, owner = two_keys_same_node_different_slots(cluster)
    r = redis.Redis(port=owner)
    r.delete(a)
    r.delete(b)
    tx = r.pipeline(transaction=True)
    tx.set(a, "1")
    tx.set(b, "2")
    with pytest.raises(redis.exceptions.ResponseError, match=CROSSSLOT):
        tx.execute()
    assert r.exists(a) == 0 and r.exists(b) == 0
    # A key owned elsewhere inside MULTI: MOVED at queue time, EXEC aborts.
    other = next(f"c{i}" for i in range(1000) if cluster.node_for(f"c{i}").connection_pool.connection_kwargs["port"] != owner)
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command("MULTI")
        assert conn.read_response() == b"OK"
        conn.send_command("SET", a, "1")
        assert conn.read_response() == b"QUEUED"
        conn.send_command("SET", other, "1")
        with pytest.raises(redis.exceptions.MovedError, match=f"^{key_slot(other)} 127.0.0.1:") as moved:
            conn.read_response()
        assert moved.value.slot_id == key_slot(other) and moved.value.port in cluster.ports
        conn.send_command("EXEC")
        with pytest.raises(redis.exceptions.ExecAbortError, match="^Transaction discarded because of previous errors."):
            conn.read_response()
    finally:
        r.connection_pool.release(conn)
    assert r.exists(a) == 0
    r.close()


def test_hash_tags(cluster, rc):
    assert rc.mset({"{user:42}:name": "ann", "{user:42}:age": "7"}) is True
    assert rc.mget("{user:42}:name", "{user:42}:age", "{user:42}:none") == [b"ann", b"7", None]
    rc.sadd("{user:42}:s1", "a", "b", "c")
    rc.sadd("{user:42}:s2", "b", "c", "d")
    assert rc.sinterstore("{user:42}:s3", ["{user:42}:s1", "{user:42}:s2"]) == 2
    assert rc.smembers("{user:42}:s3") == {b"b", b"c"}
    p = rc.pipeline(transaction=True)
    p.set("{user:42}:n", 10)
    p.incr("{user:42}:n")
    p.get("{user:42}:n")
    # (redis-py blocks pipe.sinterstore() in cluster mode; the raw command goes through.)
    p.execute_command("SINTERSTORE", "{user:42}:s4", "{user:42}:s1", "{user:42}:s3")
    res = p.execute()
    # (redis-py 8's cluster transactions return SET's raw b"OK", without the True callback.)
    assert res[0] in (True, b"OK") and res[1:] == [11, b"11", 2], res
    # Hash-tagged keys all live on the one node that owns slot(user:42).
    owner = cluster.node_for("{user:42}")
    assert owner.get("{user:42}:n") == b"11"
    assert owner.execute_command("CLUSTER", "COUNTKEYSINSLOT", key_slot("user:42")) == 7
    # Non-transactional pipelines spanning nodes work too.
    p = rc.pipeline(transaction=False)
    for i in range(50):
        p.set(f"pk{i}", i)
    for i in range(50):
        p.get(f"pk{i}")
    assert p.execute() == [True] * 50 + [str(i).encode() for i in range(50)]


def test_cluster_introspection(cluster, rc):
    assert rc.cluster_info()["cluster_state"] == "ok"
    assert rc.cluster_keyslot("{user:42}x") == key_slot("user:42")
    assert len(rc.get_primaries()) == 3
    assert rc.ping() is True
