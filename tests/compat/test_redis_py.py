"""Compatibility tests: the redis-py client against a real shoal-server.

Run with `python -m pytest tests/compat/test_redis_py.py` (scripts/test.sh does it in
.venv). The server binary is $SHOAL_SERVER, default target/release/shoal-server; each
test class starts its own server on a free port. Set SHOAL_COMPAT_REFERENCE=1 to run the
same tests against /usr/bin/redis-server (to check the tests themselves).
"""

import os
import socket
import subprocess
import threading
import time
import unittest

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def server_binary():
    if os.environ.get("SHOAL_COMPAT_REFERENCE") == "1":
        return "/usr/bin/redis-server"
    return os.environ.get("SHOAL_SERVER", os.path.join(ROOT, "target", "release", "shoal-server"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ServerProcess:
    """A server on a free port, killed (by its own PID) on stop()."""

    def __init__(self, *extra):
        binary = server_binary()
        if not os.path.exists(binary):
            raise unittest.SkipTest(f"{binary} not built (cargo build --release)")
        last = None
        for _ in range(3):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.time() + 10
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                        s.sendall(b"PING\r\n")
                        if s.recv(64):
                            return
                except OSError as e:
                    last = e
                time.sleep(0.05)
            self.stop()
        raise RuntimeError(f"{binary} did not start: {last}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class RedisPyTest(unittest.TestCase):
    protocol = 2

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.r = self.client()
        # Each test uses its own key prefix; the server is shared by the class.
        self.p = f"{self.id().rsplit('.', 1)[-1]}:"

    def tearDown(self):
        self.r.close()

    def client(self, **kw):
        return redis.Redis(host="127.0.0.1", port=self.server.port, protocol=self.protocol, socket_timeout=10, **kw)

    def k(self, name):
        return self.p + name

    def test_ping_echo(self):
        self.assertTrue(self.r.ping())
        self.assertEqual(self.r.echo("hello"), b"hello")

    def test_set_get(self):
        self.assertTrue(self.r.set(self.k("a"), "1"))
        self.assertEqual(self.r.get(self.k("a")), b"1")
        self.assertIsNone(self.r.get(self.k("missing")))
        self.assertTrue(self.r.set(self.k("a"), "2", xx=True))
        self.assertIsNone(self.r.set(self.k("a"), "3", nx=True))
        self.assertEqual(self.r.get(self.k("a")), b"2")
        self.assertEqual(self.r.set(self.k("a"), "4", get=True), b"2")

    def test_binary_values(self):
        data = bytes(range(256)) * 4
        self.r.set(self.k("bin"), data)
        self.assertEqual(self.r.get(self.k("bin")), data)
        key = self.k("\x00\xff\r\n")
        self.r.set(key, b"")
        self.assertEqual(self.r.get(key), b"")
        big = os.urandom(1 << 20)
        self.r.set(self.k("big"), big)
        self.assertEqual(self.r.get(self.k("big")), big)

    def test_decode_responses(self):
        r = self.client(decode_responses=True)
        r.set(self.k("u"), "héllo ✓")
        self.assertEqual(r.get(self.k("u")), "héllo ✓")
        r.close()

    def test_expiry(self):
        self.r.set(self.k("t"), "v", ex=100)
        ttl = self.r.ttl(self.k("t"))
        self.assertTrue(0 < ttl <= 100, ttl)
        self.r.set(self.k("pt"), "v", px=50)
        time.sleep(0.15)
        self.assertIsNone(self.r.get(self.k("pt")))

    def test_incr(self):
        self.assertEqual(self.r.incr(self.k("n")), 1)
        self.assertEqual(self.r.incr(self.k("n"), 10), 11)
        self.assertEqual(self.r.decr(self.k("n")), 10)
        self.assertEqual(self.r.incrbyfloat(self.k("f"), 1.5), 1.5)
        self.r.set(self.k("s"), "abc")
        with self.assertRaises(redis.ResponseError) as cm:
            self.r.incr(self.k("s"))
        self.assertIn("not an integer", str(cm.exception))

    def test_hash(self):
        h = self.k("h")
        self.assertEqual(self.r.hset(h, mapping={"f1": "v1", "f2": "v2"}), 2)
        self.assertEqual(self.r.hset(h, "f1", "v1b"), 0)
        self.assertEqual(self.r.hget(h, "f1"), b"v1b")
        self.assertEqual(self.r.hgetall(h), {b"f1": b"v1b", b"f2": b"v2"})
        self.assertEqual(self.r.hlen(h), 2)
        self.assertEqual(self.r.hincrby(h, "n", 5), 5)
        self.assertEqual(self.r.hdel(h, "f2", "nope"), 1)
        self.assertEqual(sorted(self.r.hkeys(h)), [b"f1", b"n"])
        self.assertEqual(self.r.hgetall(self.k("nohash")), {})
        self.r.set(self.k("str"), "x")
        with self.assertRaises(redis.ResponseError) as cm:
            self.r.hgetall(self.k("str"))
        self.assertIn("WRONGTYPE", str(cm.exception))

    def test_big_hash(self):
        h = self.k("bighash")
        mapping = {f"field:{i}": f"value:{i}" for i in range(1000)}
        self.r.hset(h, mapping=mapping)
        got = self.r.hgetall(h)
        self.assertEqual(len(got), 1000)
        self.assertEqual(got[b"field:999"], b"value:999")

    def test_pipeline(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set(self.k(f"p{i}"), i)
        for i in range(1000):
            pipe.get(self.k(f"p{i}"))
        res = pipe.execute()
        self.assertEqual(res[:1000], [True] * 1000)
        self.assertEqual(res[1000:], [str(i).encode() for i in range(1000)])

    def test_pipeline_errors_do_not_stop_the_rest(self):
        self.r.set(self.k("s"), "abc")
        pipe = self.r.pipeline(transaction=False)
        pipe.incr(self.k("s")).set(self.k("after"), "1").get(self.k("after"))
        res = pipe.execute(raise_on_error=False)
        self.assertIsInstance(res[0], redis.ResponseError)
        self.assertEqual(res[1:], [True, b"1"])

    def test_transaction(self):
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.k("a"), "1").incr(self.k("a")).get(self.k("a"))
        self.assertEqual(pipe.execute(), [True, 2, b"2"])

    def test_transaction_execabort(self):
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.k("x"), "1")
        pipe.execute_command("NOSUCHCOMMAND")
        with self.assertRaises(redis.ResponseError):
            pipe.execute()
        self.assertIsNone(self.r.get(self.k("x")))

    def test_watch(self):
        key = self.k("w")
        self.r.set(key, "0")
        other = self.client()
        with self.r.pipeline() as pipe:
            pipe.watch(key)
            current = int(pipe.get(key))
            other.set(key, "100")  # concurrent write
            pipe.multi()
            pipe.set(key, current + 1)
            with self.assertRaises(redis.WatchError):
                pipe.execute()
        self.assertEqual(self.r.get(key), b"100")
        other.close()

    def test_transaction_helper_with_contention(self):
        key = self.k("counter")
        self.r.set(key, 0)

        def bump(pipe):
            n = int(pipe.get(key))
            pipe.multi()
            pipe.set(key, n + 1)

        def worker():
            c = self.client()
            for _ in range(50):
                c.transaction(bump, key)
            c.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.r.get(key), b"200")

    def test_concurrent_incr(self):
        key = self.k("shared")

        def worker():
            c = self.client()
            for _ in range(100):
                c.incr(key)
            c.close()

        threads = [threading.Thread(target=worker) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.r.get(key), b"2000")

    def test_select_database(self):
        r1 = self.client(db=1)
        r1.set(self.k("db"), "one")
        self.assertIsNone(self.r.get(self.k("db")))
        self.assertEqual(r1.get(self.k("db")), b"one")
        r1.close()

    def test_keys_commands(self):
        self.r.set(self.k("e1"), "1")
        self.r.set(self.k("e2"), "2")
        self.assertEqual(self.r.exists(self.k("e1"), self.k("e2"), self.k("e3")), 2)
        self.assertEqual(self.r.delete(self.k("e1"), self.k("e3")), 1)
        self.assertEqual(self.r.type(self.k("e2")), b"string")
        self.assertEqual(self.r.mget(self.k("e1"), self.k("e2")), [None, b"2"])
        self.assertTrue(self.r.mset({self.k("m1"): "a", self.k("m2"): "b"}))
        self.assertEqual(self.r.mget(self.k("m1"), self.k("m2")), [b"a", b"b"])

    def test_connection_errors_are_reported(self):
        with self.assertRaises(redis.ResponseError) as cm:
            self.r.execute_command("NOSUCHCOMMAND", "a")
        self.assertIn("unknown command", str(cm.exception))
        with self.assertRaises(redis.ResponseError) as cm:
            self.r.execute_command("GET")
        self.assertIn("wrong number of arguments", str(cm.exception))
        # The connection is still usable.
        self.assertTrue(self.r.ping())


class RedisPyResp3Test(RedisPyTest):
    """The same tests over RESP3 (HELLO 3)."""

    protocol = 3


class RedisPyAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess("--requirepass", "s3cret")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_auth(self):
        bad = redis.Redis(host="127.0.0.1", port=self.server.port, socket_timeout=10)
        with self.assertRaises(redis.AuthenticationError):
            bad.get("k")
        bad.close()
        wrong = redis.Redis(host="127.0.0.1", port=self.server.port, password="nope", socket_timeout=10)
        with self.assertRaises(redis.AuthenticationError):
            wrong.ping()
        wrong.close()
        good = redis.Redis(host="127.0.0.1", port=self.server.port, password="s3cret", socket_timeout=10)
        self.assertTrue(good.set("k", "v"))
        self.assertEqual(good.get("k"), b"v")
        good.close()


if __name__ == "__main__":
    unittest.main()
