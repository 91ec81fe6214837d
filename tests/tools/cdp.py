# cdp.py: a small Chrome DevTools Protocol driver for tests, in python3's standard library only.
#
# Starts headless Chromium with --remote-debugging-pipe (JSON messages ended by a NUL byte:
# the browser reads fd 3 and writes fd 4), opens one page and drives it as a person would:
# navigate, fill inputs, pick a file, click a button, wait for the next page, take a
# screenshot. Every wait has a deadline; a browser that hangs or dies raises CdpError with
# what it was waiting for. close() (or leaving `with Browser(...)`) ends the browser, as do
# SIGTERM and the death of this process.
#
#   with Browser("/usr/bin/chromium") as b:
#       b.goto("http://127.0.0.1:8090/record?category=lecture")
#       b.fill("input[name=teacher_id]", "T0001")
#       b.submit("form button[type=submit]")     # clicks and waits for the next page
#       b.text("#error")
#       b.screenshot("record.png")
#
# As a script, a self-check: `python3 cdp.py CHROMIUM URL SHOT.png` loads URL, prints its title
# and saves a full-page screenshot and a small-screen one (SHOT-small.png).

import base64
import ctypes
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TIMEOUT = 30.0  # seconds for any one wait: generous for a loaded two-core machine


class CdpError(Exception):
    """The browser failed, hung, or answered a command with an error."""


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through `with Browser(...)`, which closes it


class Browser:
    """One headless Chromium with one page attached in a flattened session."""

    def __init__(self, chromium, timeout=TIMEOUT, width=1024, height=768):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="xs-cdp.")
        self.log_path = os.path.join(self.profile, "chromium.log")
        self.next_id = 1
        self.events = []  # events read while waiting for something else, oldest first
        self.buffer = b""
        self.session = None
        self.proc = None
        for sig in (signal.SIGTERM, signal.SIGHUP):  # `timeout`, ctest: still close the browser
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, _exit_on_signal)
        self.to_browser = self.from_browser = -1
        try:
            self.to_browser, self.from_browser = self._start(chromium, width, height)
            target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
            attached = self.call("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)
            self.session = attached["sessionId"]
            self.call("Page.enable")
            self.call("Runtime.enable")
            self.viewport(width, height)
        except BaseException:
            self.close()
            raise

    def _start(self, chromium, width, height):
        browser_reads, to_browser = os.pipe()
        from_browser, browser_writes = os.pipe()

        def child_fds():
            # The pipe ends move to fds 3 and 4, which exec keeps open (dup2 clears
            # close-on-exec); moved above 10 first so that neither overwrites the other.
            reads = fcntl.fcntl(browser_reads, fcntl.F_DUPFD, 10)
            writes = fcntl.fcntl(browser_writes, fcntl.F_DUPFD, 10)
            os.dup2(reads, 3)
            os.dup2(writes, 4)
            # Killed with this process, however it ends (Linux's PR_SET_PDEATHSIG, 1).
            try:
                ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
            except (OSError, AttributeError):
                pass

        args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                "--mute-audio", "--remote-debugging-pipe", "--user-data-dir=" + self.profile,
                "--window-size=%d,%d" % (width, height), "about:blank"]
        try:
            with open(self.log_path, "wb") as log:
                # close_fds=False: the child must keep fds 3 and 4 set up above; every other
                # fd of this process is close-on-exec (PEP 446), os.pipe's included.
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=log, close_fds=False, preexec_fn=child_fds)
        except (OSError, subprocess.SubprocessError) as e:
            for fd in (browser_reads, to_browser, from_browser, browser_writes):
                os.close(fd)
            raise CdpError("cannot start %s: %s" % (chromium, e))
        os.close(browser_reads)
        os.close(browser_writes)
        return to_browser, from_browser

    def close(self):
        """Closes the browser (asking it first, then killing it) and removes its profile."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.call("Browser.close", session=False, timeout=5)
            except CdpError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for fd in (self.to_browser, self.from_browser):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.to_browser = self.from_browser = -1
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the protocol ------------------------------------------------------------------------

    def _log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-800:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _read(self, deadline, waiting_for):
        """The next message from the browser, raising CdpError at the deadline or on EOF."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError("no answer from chromium within %.0f s waiting for %s"
                               % (self.timeout, waiting_for))
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                try:
                    status = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    status = "unknown"
                raise CdpError("chromium exited (status %s) while waiting for %s; its log: %s"
                               % (status, waiting_for, self._log_tail()))
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True, timeout=None):
        """Sends a command (to the page's session unless session=False) and returns its result;
        raises CdpError on an error answer or no answer within the timeout."""
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        self.next_id += 1
        if session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.to_browser, data):]
        except BrokenPipeError:
            raise CdpError("chromium exited before %s; its log: %s" % (method, self._log_tail()))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == msg["id"]:
                if "error" in reply:
                    raise CdpError("%s: %s" % (method, reply["error"].get("message")))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method, timeout=None, why=""):
        """Waits for the page's event METHOD (consuming it and all events before it) and returns
        its params; raises CdpError after the timeout (its message says why, when given)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            while self.events:
                event = self.events.pop(0)
                if event["method"] == method and event.get("sessionId") == self.session:
                    return event.get("params", {})
            event = self._read(deadline, method + (" " + why if why else ""))
            if "method" in event:
                self.events.append(event)

    # ---- what a person does --------------------------------------------------------------------

    def viewport(self, width, height, mobile=False, scale=1):
        """Sets the page's size in CSS pixels (mobile=True: a phone's, with its meta viewport)."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale,
                   "mobile": mobile})

    def goto(self, url):
        """Loads URL and waits for its load event; raises CdpError when it cannot be loaded."""
        self.events.clear()
        nav = self.call("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise CdpError("cannot load %s: %s" % (url, nav["errorText"]))
        self.wait_event("Page.loadEventFired", why="of " + url)

    def eval(self, expression):
        """The value of a JavaScript expression in the page (JSON-able); raises CdpError when it
        throws."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError("in the page: %s" % (text or "").split("\n")[0])
        return result["result"].get("value")

    def _element(self, selector):
        # The element or an exception naming the selector, as a JavaScript expression.
        return ("(function(){var e=document.querySelector(%s);"
                "if(!e)throw new Error('no element '+%s+' on '+location.href);return e})()"
                % (json.dumps(selector), json.dumps(selector)))

    def exists(self, selector):
        """Whether an element matches SELECTOR."""
        return self.eval("document.querySelector(%s) !== null" % json.dumps(selector))

    def text(self, selector):
        """The visible text of the first element matching SELECTOR ('' when there is none)."""
        return self.eval("(function(){var e=document.querySelector(%s);"
                         "return e?e.innerText:''})()" % json.dumps(selector))

    def html(self):
        """The page's HTML as the browser holds it."""
        return self.eval("document.documentElement.outerHTML")

    def fill(self, selector, value):
        """Sets an input's, textarea's or select's value as typing or picking would (for a
        select, VALUE is an option's value or the start of its label)."""
        self.eval("(function(){var e=%s,v=%s;"
                  "if(e.tagName==='SELECT'){var o=[].find.call(e.options,function(o){"
                  "return o.value===v||o.text.trim().indexOf(v)===0});"
                  "if(!o)throw new Error('no option '+v+' in '+%s);v=o.value}"
                  "e.value=v;e.dispatchEvent(new Event('input',{bubbles:true}));"
                  "e.dispatchEvent(new Event('change',{bubbles:true}))})()"
                  % (self._element(selector), json.dumps(value), json.dumps(selector)))

    def set_file(self, selector, path):
        """Chooses the file PATH in the file input SELECTOR."""
        found = self.call("Runtime.evaluate", {"expression": self._element(selector)})
        if "exceptionDetails" in found:
            raise CdpError("no file input %s" % selector)
        self.call("DOM.setFileInputFiles", {"files": [os.path.abspath(path)],
                                            "objectId": found["result"]["objectId"]})

    def submit(self, selector):
        """Clicks the button SELECTOR (for a form, its first submit button) and waits for the
        page the browser loads next."""
        self.events.clear()
        self.eval("(function(){var e=%s;if(e.tagName==='FORM'){var f=e;"
                  "e=f.querySelector('button:not([type]),[type=submit],[type=image]');"
                  "if(!e)throw new Error('no submit button in '+%s)}e.click()})()"
                  % (self._element(selector), json.dumps(selector)))
        self.wait_event("Page.loadEventFired", why="after a click on %s" % selector)

    def url(self):
        """The page's address now."""
        return self.eval("location.href")

    def screenshot(self, path, full_page=True):
        """Saves a PNG of the page (the whole page when full_page, else the viewport)."""
        params = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                              "scale": 1}
        shot = self.call("Page.captureScreenshot", params)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))


def main(argv):
    if len(argv) != 4:
        print("usage: cdp.py CHROMIUM URL SHOT.png", file=sys.stderr)
        return 2
    chromium, url, shot = argv[1:]
    try:
        with Browser(chromium) as b:
            b.goto(url)
            print(b.eval("document.title"))
            b.screenshot(shot)
            b.viewport(390, 844, mobile=True)
            b.goto(url)
            b.screenshot(shot[:-4] + "-small.png" if shot.endswith(".png") else shot + "-small")
    except CdpError as e:
        print("cdp.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
