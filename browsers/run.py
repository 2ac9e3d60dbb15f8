#!/usr/bin/env python3
"""Conformance suite: real headless Chromium and Firefox ESR talk to nmframe's hosts.

For each browser this builds the hosts (the Rust `nmframe echo`, the C, C++ and Go
example echo hosts, the async Rust echo and request/response hosts, the C calc host; the
Node echo and chunked hosts on js/nmframe-host run from the clone, the Python ones on the
package installed by scripts/python-env.sh), makes a throwaway profile, registers the hosts with
`nmframe manifest install`, loads the test extension (browsers/extension/) and starts the
browser headless. The extension runs every case through the browser's own
native-messaging API and reports each result here over HTTP on 127.0.0.1. This prints
one line per case and a final "N passed, N failed" line, and exits 1 if anything failed.

Every process it started is ended by PID before it returns, hosts included: neither
browser kills its hosts when it is itself terminated.

    python3 browsers/run.py                    # both browsers
    python3 browsers/run.py --browser firefox  # one of them
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "browsers" / "extension"
GECKO_ID = "conformance@nmframe.dev"
CHROMIUM = "/usr/lib/chromium/chromium"  # not /usr/bin/chromium: that wrapper adds extension flags
FIREFOX = "firefox-esr"
NODE = shutil.which("node") or "node"  # the wrappers run it with the browser's PATH
TESTED = ROOT / "browsers" / "TESTED.md"  # the versions the suite has passed on
MiB = 1 << 20
BROKEN = ROOT / "cli" / "tests" / "hosts"
BROKEN_HOSTS = ["bad_output.py", "prints_text.py", "big_reply.py"]
# What `nmframe tap show` must name as the cause for each broken host, in both browsers.
TAP_CAUSES = {
    "bad_output.py": "is not a valid JSON message",
    "prints_text.py": "something wrote to stdout",
    "big_reply.py": "over the host → browser limit of 1048576 bytes",
}
TAPPED_ECHO = "dev.nmframe.test.echo_tapped"


def log(text):
    print(text, flush=True)


def run(cmd, **kwargs):
    subprocess.run(cmd, check=True, **kwargs)


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def build_hosts():
    """Builds every host in release mode; returns {label: (name, argv)}."""
    run(["cargo", "build", "--quiet", "--release", "--locked", "-p", "nmframe-cli", "-p", "libnmframe"], cwd=ROOT)
    run(["cargo", "build", "--quiet", "--release", "--locked", "-p", "nmframe", "--features", "tokio",
         "--example", "tokio_echo_host", "--example", "tokio_rpc_host", "--example", "chunked_host", "--example", "tokio_chunked_host"], cwd=ROOT)
    release = target_dir() / "release"
    out = target_dir() / "browser-hosts"
    out.mkdir(parents=True, exist_ok=True)
    lib = release / "libnmframe.a"
    native = ["-lpthread", "-ldl", "-lm"]
    # The reference for `--timing`: plain C framing (read, then writev, per frame).
    run(["cc", "-std=c11", "-O2", str(ROOT / "benches/hosts/plain_echo.c"), "-o", str(out / "plain_echo_c")])
    for compiler, std, source, exe in [("cc", "-std=c11", "c/echo_host.c", "echo_host_c"),
                                       ("cc", "-std=c11", "c/calc_host.c", "calc_host_c"),
                                       ("c++", "-std=c++17", "cpp/echo_host.cpp", "echo_host_cpp")]:
        run([compiler, std, "-O2", "-I", str(ROOT / "ffi/include"), str(ROOT / "ffi/examples" / source),
             str(lib), *native, "-o", str(out / exe)])
    # Go's build cache does not look inside the archive named by CGO_LDFLAGS: a stamp of
    # its size and time in the link flags makes a new library relink.
    stat = lib.stat()
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", CGO_CFLAGS=f"-I{ROOT / 'ffi/include'}",
               CGO_LDFLAGS=" ".join([str(lib), *native]))
    run(["go", "build", "-tags", "nmframe_nopkgconfig", f"-ldflags=-X main.libnmframeStamp={stat.st_size}-{stat.st_mtime_ns}",
         "-o", str(out / "echo_host_go"), "./cmd/echo_host"], cwd=ROOT / "go", env=env)
    # The Python hosts run on the package's test environment (`pip install ./python`).
    python = subprocess.run(["bash", str(ROOT / "scripts" / "python-env.sh")], check=True,
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    return {
        "rust": ("dev.nmframe.test.echo_rust", [str(release / "nmframe"), "echo"]),
        "c": ("dev.nmframe.test.echo_c", [str(out / "echo_host_c")]),
        "c++": ("dev.nmframe.test.echo_cpp", [str(out / "echo_host_cpp")]),
        "go": ("dev.nmframe.test.echo_go", [str(out / "echo_host_go")]),
        "rust async": ("dev.nmframe.test.echo_tokio", [str(release / "examples" / "tokio_echo_host")]),
        "c-calc": ("dev.nmframe.test.calc_c", [str(out / "calc_host_c")]),
        "rust-rpc": ("dev.nmframe.test.rpc_tokio", [str(release / "examples" / "tokio_rpc_host")]),
        # References for `--timing` only: plain C framing, and MDN's stdlib Python host.
        "plain C": ("dev.nmframe.test.plain_c", [str(out / "plain_echo_c")]),
        "python stdlib (MDN)": ("dev.nmframe.test.python_mdn",
                                [sys.executable, str(ROOT / "benches" / "python" / "mdn_stdlib_host.py")]),
        # Messages of any size (docs/CHUNKING.md): the Rust host, and one that botches
        # transfers on request.
        "rust-chunked": ("dev.nmframe.test.chunked", [str(release / "examples" / "chunked_host")]),
        "rust-chunked-async": ("dev.nmframe.test.chunked_tokio", [str(release / "examples" / "tokio_chunked_host")]),
        # The Node hosts on js/nmframe-host: the plain echo, and the chunked host (the same
        # requests as the Rust one).
        "node": ("dev.nmframe.test.echo_node", [NODE, str(ROOT / "js" / "nmframe-host" / "examples" / "echo_host.mjs")]),
        "node-chunked": ("dev.nmframe.test.chunked_node", [NODE, str(ROOT / "js" / "nmframe-host" / "examples" / "chunked_host.mjs")]),
        # The Python hosts on the nmframe package: the plain echo and the chunked host.
        "python": ("dev.nmframe.test.echo_python", [python, str(ROOT / "python" / "examples" / "echo_host.py")]),
        "python-chunked": ("dev.nmframe.test.chunked_python",
                           [python, str(ROOT / "python" / "examples" / "chunked_host.py")]),
        "chunk-faults": ("dev.nmframe.test.chunk_faults", [str(ROOT / "browsers" / "hosts" / "chunk_faults.py")]),
        # The same echo host behind `nmframe tap` (put there by `nmframe tap install`): every
        # echo case must pass through the tap as without it.
        "rust tapped": (TAPPED_ECHO, [str(release / "nmframe"), "echo"]),
        # The command-line tool's deliberately broken hosts: what the browser does with their
        # output is compared with what `nmframe run` predicts. Each also runs behind the tap,
        # which must change nothing the browser sees and whose log must name the cause.
        **{f"broken {script}": (f"dev.nmframe.test.{script.removesuffix('.py')}", [str(BROKEN / script)])
           for script in BROKEN_HOSTS},
        **{f"broken tapped {script}": (f"dev.nmframe.test.tapped_{script.removesuffix('.py')}",
                                       [str(BROKEN / script)])
           for script in BROKEN_HOSTS},
    }


def chromium_id(manifest):
    """The extension id Chromium derives from the manifest's public key."""
    digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first, then ppid,
    pgrp, session, ...), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def peak_kib(pid):
    """A process's peak resident memory (VmHWM) in KiB; 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((l for l in status.splitlines() if l.startswith("VmHWM:")), None)
    return int(line.split()[1]) if line else 0


def alive(pid):
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in (b"Z", b"X")


def session_members(sid):
    """Every live process in session `sid` (the browser leads its own session)."""
    members = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = stat_fields(entry)
        if fields is not None and int(fields[3]) == sid and fields[0] not in (b"Z", b"X"):
            members.append(int(entry))
    return members


class Run:
    """One browser run: its files, its report server and the processes it started."""

    def __init__(self, browser, hosts, cli, deadline, probe=None, only=None, timing=False):
        self.browser = browser
        self.probe = probe
        self.timing = timing
        self.only = only
        self.hosts = hosts
        self.cli = cli
        self.deadline = deadline
        self.tmp = Path(tempfile.mkdtemp(prefix=f"nmframe-{browser}-"))
        self.pid_dir = self.tmp / "pids"
        self.pid_dir.mkdir()
        self.events = queue.Queue()
        self.started = False
        self.snapshots = {}
        self.lock = threading.Lock()

    # The wrapper records each host process's PID (exec keeps it) so the disconnect case
    # can watch it exit and nothing outlives the run. A manifest's path cannot carry
    # arguments, which `nmframe echo` needs anyway.
    def wrapper(self, name, argv):
        path = self.tmp / "hosts" / f"{name}.sh"
        path.parent.mkdir(exist_ok=True)
        quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
        path.write_text(f"#!/bin/sh\necho $$ >> '{self.pid_dir / name}'\nexec {quoted} \"$@\"\n")
        path.chmod(0o755)
        return path

    def register(self, options, env=None):
        """Installs every host's manifest with `nmframe manifest install`, then puts the tap
        in front of the tapped ones with `nmframe tap install`."""
        for name, argv in self.hosts.values():
            run([self.cli, "manifest", "install", "--name", name, "--path", str(self.wrapper(name, argv)),
                 *options], env=env, stdout=subprocess.DEVNULL)
        place = ["--browser", self.browser]
        if "--user-data-dir" in options:
            place += ["--user-data-dir", options[options.index("--user-data-dir") + 1]]
        for name in self.tapped():
            run([self.cli, "tap", "install", "--name", name, "--log", str(self.tap_log(name)), *place],
                env=env, stdout=subprocess.DEVNULL)

    def register_unparsable(self, folder):
        """Beside the echo host's manifest, two copies a browser may not parse: one with a
        UTF-8 byte-order mark, one with a comment (what `nmframe manifest check` calls
        errors). The suite records what each browser does with them."""
        name = self.hosts["rust"][0]
        manifest = json.loads((folder / f"{name}.json").read_text())
        names = {}
        self.unparsable_files = {}
        for kind, prefix in (("bom", "\ufeff"), ("comments", "// the echo host\n")):
            manifest["name"] = names[kind] = f"dev.nmframe.test.manifest_{kind}"
            file = self.unparsable_files[manifest["name"]] = folder / f"{manifest['name']}.json"
            file.write_text(prefix + json.dumps(manifest, indent=2), encoding="utf-8")
        return names

    def tapped(self):
        return [name for label, (name, _) in self.hosts.items() if "tapped" in label]

    def tap_log(self, name):
        return self.tmp / f"{name}.tap.log"

    def tap_cases(self):
        """After the browser run: each tapped host's log, read by `nmframe tap show`, must
        show every session ending cleanly (the echo host) or name the cause of the failure
        that the browser reported as one generic line (the broken hosts)."""
        cases = []
        for label, (name, _) in self.hosts.items():
            if "tapped" not in label:
                continue
            log_file = self.tap_log(name)
            if (self.only or self.timing or self.probe) and not log_file.exists():
                continue  # --only, --timing or --probe left out the cases that use this host
            shown = subprocess.run([self.cli, "tap", "show", str(log_file)], capture_output=True, text=True,
                                   timeout=60).stdout if log_file.exists() else ""
            diagnosis = [line for line in shown.splitlines() if line.startswith("diagnosis:")]
            script = label.removeprefix("broken tapped ")
            if script in TAP_CAUSES:
                want = TAP_CAUSES[script]
                ok = any(want in line for line in diagnosis)
                detail = f"names {want!r}" if ok else f"no {want!r} in: {diagnosis or shown[-500:]}"
            else:
                sessions = shown.count(" start ")
                ok = sessions > 0 and all("no problem seen" in line for line in diagnosis)
                detail = f"{sessions} tapped sessions, none with a problem" if ok else f"{diagnosis or shown[-500:]}"
            log(f"{'ok  ' if ok else 'FAIL'} {self.browser:8} {label}: tap show: {detail}")
            cases.append({"ok": ok})
        return cases

    def host_pids(self, name=None):
        pids = []
        for f in self.pid_dir.iterdir():
            if name is None or f.name == name:
                pids += [int(line) for line in f.read_text().split()]
        return pids

    def serve(self):
        run_ = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                reply = run_.handle(self.path.strip("/"), body)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def handle(self, path, body):
        if path == "start":
            with self.lock:
                first, self.started = not self.started, True
            self.events.put(("start", body))
            return {"run": first}
        if path == "pids":
            pids = [p for p in self.host_pids(body["host"]) if alive(p)]
            with self.lock:
                self.snapshots[tuple(pids)] = time.monotonic()
            return {"pids": pids}
        if path == "await-exit":
            pids = body["pids"]
            # Measured from before the extension called disconnect(): an upper bound.
            t0 = self.snapshots.get(tuple(pids), time.monotonic())
            limit = body["limit_ms"] / 1000
            while any(alive(p) for p in pids) and time.monotonic() - t0 < limit + 2:
                time.sleep(0.002)
            return {"ms": round((time.monotonic() - t0) * 1000), "alive": [p for p in pids if alive(p)]}
        if path == "memory":
            # The host's peak resident memory (VmHWM), in KiB, while it still runs.
            return {"kib": max(map(peak_kib, self.host_pids(body["host"])), default=0)}
        if path == "browser-memory":
            # The browser's own processes (its session, hosts excluded): the largest peak
            # resident memory among them, where the extension's receiver runs.
            hosts = set(self.host_pids())
            browser = [p for p in session_members(self.browser_sid) if p not in hosts]
            return {"largest_peak_kib": max(map(peak_kib, browser), default=0)}
        if path == "cli-check":
            # What `nmframe manifest check FILE --browser B` makes of a manifest.
            out = subprocess.run([self.cli, "manifest", "check", str(self.unparsable_files[body["name"]]),
                                  "--browser", self.browser], capture_output=True, text=True, timeout=60)
            return {"refused": out.returncode != 0, "said": (out.stdout + out.stderr)[-2000:]}
        if path == "cli-run":
            return self.predict(body["host"], body["messages"])
        if path == "log-contains":
            # The browser's output file: Chromium hands it to hosts as their stderr.
            return {"found": body["text"].encode() in (self.tmp / "browser.log").read_bytes()}
        self.events.put((path, body))
        return {}

    def predict(self, name, messages):
        """What `nmframe run --browser B` says the browser makes of the host's output:
        the replies it delivers, and the error it closes the port with, if any."""
        argv = next(argv for n, argv in self.hosts.values() if n == name)
        sent = [arg for m in messages for arg in ("-m", json.dumps(m))]
        out = subprocess.run([self.cli, "run", "--browser", self.browser, "--timeout", "10", *sent, "--", *argv],
                             capture_output=True, text=True, timeout=60)
        says = re.search(r'would say: "(.*)"$', out.stderr, re.MULTILINE)
        return {"replies": [json.loads(line) for line in out.stdout.splitlines()],
                "says": says.group(1) if says else None, "stderr": out.stderr[-2000:]}

    def prepare_chromium(self, server_port):
        manifest = json.loads((EXTENSION / "manifest.chromium.json").read_text())
        ext_id = chromium_id(manifest)
        # The profile where Chromium keeps it by default, $XDG_CONFIG_HOME/chromium (headless
        # Chromium would otherwise make a temporary one), and the hosts registered with no
        # --user-data-dir: `nmframe manifest install --browser chromium` writes where the
        # table says a default Chromium reads, and every host the suite reaches proves it.
        config = self.tmp / "config"
        env = dict(os.environ, HOME=str(self.tmp / "home"), XDG_CONFIG_HOME=str(config))
        self.register(["--browser", "chromium", "--origin", f"chrome-extension://{ext_id}/"], env)
        self.unparsable = self.register_unparsable(config / "chromium" / "NativeMessagingHosts")
        ext = self.write_extension(manifest, server_port, ext_id)
        cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-quic", "--no-default-browser-check", f"--user-data-dir={config / 'chromium'}",
               f"--load-extension={ext}", f"--disable-extensions-except={ext}", "about:blank"]
        return cmd, env

    def prepare_firefox(self, server_port):
        manifest = json.loads((EXTENSION / "manifest.firefox.json").read_text())
        home = self.tmp / "home"
        env = dict(os.environ, HOME=str(home), MOZ_CRASHREPORTER_DISABLE="1")
        self.register(["--browser", "firefox", "--extension-id", GECKO_ID], env)
        self.unparsable = self.register_unparsable(home / ".mozilla" / "native-messaging-hosts")
        ext = self.write_extension(manifest, server_port, GECKO_ID)
        profile = self.tmp / "profile"
        (profile / "extensions").mkdir(parents=True)
        with zipfile.ZipFile(profile / "extensions" / f"{GECKO_ID}.xpi", "w") as xpi:
            for f in sorted(ext.iterdir()):
                xpi.write(f, f.name)
        prefs = {
            "xpinstall.signatures.required": False,
            "extensions.autoDisableScopes": 0,
            "extensions.enabledScopes": 15,
            "extensions.update.enabled": False,
            "extensions.getAddons.cache.enabled": False,
            "app.update.auto": False,
            "browser.shell.checkDefaultBrowser": False,
            "browser.startup.homepage_override.mstone": "ignore",
            "browser.aboutwelcome.enabled": False,
            "datareporting.policy.dataSubmissionEnabled": False,
            "datareporting.healthreport.uploadEnabled": False,
            "toolkit.telemetry.reportingpolicy.firstRun": False,
            "network.captive-portal-service.enabled": False,
            "network.connectivity-service.enabled": False,
        }
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()))
        cmd = [FIREFOX, "-headless", "-no-remote", "-profile", str(profile), "about:blank"]
        return cmd, env

    def write_extension(self, manifest, server_port, ext_id):
        ext = self.tmp / "extension"
        ext.mkdir()
        for f in ["background.js", "background.html"]:
            shutil.copy(EXTENSION / f, ext)
        # The extension side of messages of any size, as an extension would ship it.
        shutil.copy(ROOT / "js" / "nmframe-port" / "nmframe-port.js", ext)
        (ext / "manifest.json").write_text(json.dumps(manifest, indent=2))
        references = () if self.timing else ("plain C", "python stdlib (MDN)")
        hosts = [{"label": label, "name": name} for label, (name, _) in self.hosts.items()
                 if label not in ("c-calc", "rust-rpc", "rust-chunked", "rust-chunked-async", "node-chunked",
                                  "python-chunked", "chunk-faults", *references)
                 and not label.startswith("broken ")
                 and not (self.timing and label == "rust tapped")]
        broken = [{"label": label, "name": name} for label, (name, _) in self.hosts.items()
                  if label.startswith("broken ")]
        config = {
            "port": server_port,
            "browser": self.browser,
            "extension_id": ext_id,
            "hosts": hosts,
            "calc": self.hosts["c-calc"][0],
            "rpc": self.hosts["rust-rpc"][0],
            "chunked": self.hosts["rust-chunked"][0],
            "chunked_async": self.hosts["rust-chunked-async"][0],
            "chunked_node": self.hosts["node-chunked"][0],
            "chunked_python": self.hosts["python-chunked"][0],
            "chunk_faults": self.hosts["chunk-faults"][0],
            "broken": broken,
            "unparsable": self.unparsable,
            # The largest message each browser refuses to send (Chromium: 64 MiB + 1).
            "over_limit": 64 * MiB + 1 if self.browser == "chromium" else None,
            "probe": self.probe,
            "timing": self.timing,
            "only": self.only,
        }
        (ext / "config.js").write_text(f"self.NMF_CONFIG = {json.dumps(config, indent=2)};\n")
        return ext

    def execute(self):
        server = self.serve()
        port = server.server_address[1]
        cmd, env = (self.prepare_chromium if self.browser == "chromium" else self.prepare_firefox)(port)
        browser_log = open(self.tmp / "browser.log", "wb")
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=browser_log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.browser_sid = proc.pid
        results, plan, error = {}, None, None
        try:
            while True:
                left = self.deadline - (time.monotonic() - t0)
                if left <= 0:
                    error = f"no end of the run within {self.deadline} s"
                    break
                try:
                    kind, body = self.events.get(timeout=min(left, 1))
                except queue.Empty:
                    if proc.poll() is not None:
                        error = f"the browser exited with status {proc.returncode}"
                        break
                    if plan is None and time.monotonic() - t0 > 60:
                        error = "the extension never reported (not loaded?)"
                        break
                    continue
                if kind == "start":
                    log(f"[{self.browser}] {body.get('agent')}")
                elif kind == "plan":
                    plan = body["cases"]
                elif kind == "result":
                    results[body["name"]] = body
                    mark = "ok  " if body["ok"] else "FAIL"
                    log(f"{mark} {self.browser:8} {body['name']} ({body['ms']} ms): {body['detail']}")
                elif kind == "done":
                    error = body.get("error")
                    break
        finally:
            elapsed = time.monotonic() - t0
            leftovers = self.stop(proc)
            server.shutdown()
            browser_log.close()
        cases = []
        for name in plan or []:
            if name not in results:
                log(f"FAIL {self.browser:8} {name}: no result ({error or 'the run ended'})")
            cases.append(results.get(name, {"ok": False}))
        if error:
            log(f"FAIL {self.browser:8} the run: {error}; browser log: {self.tmp / 'browser.log'}")
            cases.append({"ok": False})
        cases += self.tap_cases()
        ok = not leftovers
        detail = "every host exited on its own" if ok else f"had to kill {leftovers}"
        log(f"{'ok  ' if ok else 'FAIL'} {self.browser:8} no host process outlives the browser: {detail}")
        cases.append({"ok": ok})
        log(f"[{self.browser}] {len(self.host_pids())} host processes, run took {elapsed:.1f} s")
        return cases

    def stop(self, proc):
        """Ends the browser, waits for its hosts to exit on EOF, and kills what is left.
        Returns the host PIDs that had to be killed."""
        sid = proc.pid
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(sid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # A host sees EOF once every browser process holding its pipes is gone.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (session_members(sid) or any(alive(p) for p in self.host_pids())):
            time.sleep(0.05)
        stuck = [p for p in self.host_pids() if alive(p)]
        for pid in set(stuck + session_members(sid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return stuck


def version(cmd):
    try:
        return subprocess.run([cmd, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"not runnable: {e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", choices=["chromium", "firefox", "all"], default="all")
    parser.add_argument("--timeout", type=float, default=150, help="seconds a browser run may take")
    parser.add_argument("--keep", action="store_true", help="keep the profiles and logs")
    parser.add_argument("--probe", metavar="MiB,...",
                        help="instead of the suite: send messages of these sizes to find the browser's limit")
    parser.add_argument("--timing", action="store_true",
                        help="instead of the suite: round trips (p50, p99) and bulk transfer through the "
                             "browser for each echo host (the figures in BENCHMARKS.md)")
    parser.add_argument("--only", metavar="TEXT",
                        help="run only the cases whose name contains TEXT (to try one case again)")
    parser.add_argument("--record", action="store_true",
                        help=f"append this run's versions and results to {TESTED.relative_to(ROOT)}")
    args = parser.parse_args()
    browsers = ["chromium", "firefox"] if args.browser == "all" else [args.browser]

    hosts = build_hosts()
    cli = str(target_dir() / "release" / "nmframe")
    results = []
    tested = []
    for browser in browsers:
        exe = CHROMIUM if browser == "chromium" else shutil.which(FIREFOX)
        if not exe or not os.access(exe, os.X_OK):
            log(f"FAIL {browser:8} not installed (scripts/setup.sh installs Debian's chromium and firefox-esr)")
            results.append({"ok": False})
            continue
        name = version(exe)
        log(f"== {browser}: {name}")
        probe = [int(x) for x in args.probe.split(",")] if args.probe else None
        r = Run(browser, hosts, cli, args.timeout, probe, args.only, args.timing)
        started = time.monotonic()
        cases = []
        try:
            cases = r.execute()
        finally:
            if args.keep:
                log(f"[{browser}] kept {r.tmp}")
            else:
                shutil.rmtree(r.tmp, ignore_errors=True)
        results += cases
        ok = sum(1 for c in cases if c["ok"])
        tested.append(f"| {time.strftime('%Y-%m-%d')} | {name} | {ok} of {len(cases)} passed | "
                      f"{time.monotonic() - started:.0f} s |")
    passed = sum(1 for c in results if c["ok"])
    # The versions this run tested, as rows of browsers/TESTED.md: the one place that says
    # which browser versions nmframe has passed on.
    for row in tested:
        log(f"tested: {row}")
    if args.record and not (args.probe or args.only or args.timing):
        with open(TESTED, "a", encoding="utf-8") as f:
            f.writelines(row + "\n" for row in tested)
        log(f"recorded in {TESTED.relative_to(ROOT)}")
    log(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
