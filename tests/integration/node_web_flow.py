# node_web_flow.py: an office operator's session in `xueshi-node web`, in headless Chromium.
#
# Run by test_node_web.sh against a running `xueshi-node web`; prints one line per check,
# "ok   - WHAT" or "FAIL - WHAT: WHY", which the shell counts. The pages have no JavaScript:
# the flow sets values, clicks the submit buttons and waits for the next page, as a person
# would. Screenshots go to the first directory in SHOT_DIRS (separated by ':'); those that
# docs/ shows (node-record.png, node-import.png, node-totals.png) to the others too.
#
#   python3 node_web_flow.py CHROMIUM BASE_URL TEACHER DATE YEAR SHEET SHOT_DIRS
#
# TEACHER already has a record (so /totals has a row for them before the flow); DATE is a day
# of school year YEAR; SHEET is a register with two good rows and a bad one on line 3.
# Exit status: 0 when the flow ran to its end (checks may have failed), 1 when the browser
# failed or a page was missing what the next step needs.

import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from cdp import Browser, CdpError  # noqa: E402

NAV = ["/record", "/import", "/records", "/totals", "/sync", "/usb"]


LAST = ["the start"]  # the last check made: where the browser session was when it failed


def check(what, ok, why=""):
    LAST[0] = what
    if ok:
        print("ok   - " + what, flush=True)
    else:
        print("FAIL - " + what + (": " + why if why else ""), flush=True)
    return ok


class Flow:
    def __init__(self, browser, base, shot_dirs):
        self.b = browser
        self.base = base.rstrip("/")
        self.shot_dirs = [d for d in shot_dirs.split(":") if d]

    def go(self, path):
        self.b.goto(self.base + path)

    def path(self):
        return re.sub(r"^https?://[^/]+", "", self.b.url())

    def shot(self, name, docs=True):
        """A screenshot NAME into the first of SHOT_DIRS and, when docs, into the others too."""
        for d in self.shot_dirs if docs else self.shot_dirs[:1]:
            self.b.screenshot(os.path.join(d, name))

    def provisional(self, teacher, year):
        """The text of td.provisional in tr#t-TEACHER on /totals?year=YEAR (None: no row)."""
        self.go("/totals?year=" + year)
        cell = "tr#t-%s td.provisional" % teacher
        return self.b.text(cell).strip() if self.b.exists(cell) else None

    def refused_rows(self):
        """The cells' texts of each row of #refused that has a td.line."""
        return self.b.eval("[].map.call(document.querySelectorAll('#refused tr'), function(r){"
                           "return r.querySelector('td.line') ? [].map.call(r.cells,"
                           "function(c){return c.innerText.trim()}) : null})"
                           ".filter(function(r){return r})")


def run(flow, teacher, date, year, sheet):
    b = flow.b

    flow.go("/")
    missing = [h for h in NAV if not b.exists('nav a[href="%s"]' % h)]
    check("the first page has the nav (登记 导入 记录 学时 同步 U盘)", not missing,
          "no link to %s on %s" % (" ".join(missing), flow.path()))

    before = flow.provisional(teacher, year)
    if not check("/totals has a row for %s before the flow" % teacher, before is not None,
                 "no tr#t-%s td.provisional" % teacher):
        return 1

    # ---- 登记: a lecture through the form ------------------------------------------------------
    flow.go("/record")
    check("/record lists the categories as links", b.exists('a[href="/record?category=lecture"]'),
          "no link /record?category=lecture")
    flow.go("/record?category=lecture")
    form = 'form[method="post"][action="/record"]'
    need = ['input[type="hidden"][name="csrf"]', 'input[type="hidden"][name="category"]',
            '[name="teacher_id"]', '[name="date"]', '[name="minutes"]', 'select[name="role"]']
    lacking = [s for s in need if not b.exists("%s %s" % (form, s))]
    if not check("the lecture form has csrf, category, teacher_id, date, minutes and a role "
                 "select", not lacking, "missing %s" % ", ".join(lacking)):
        return 1
    others = [n for n in ("chars", "score", "work", "days")
              if b.exists('%s [name="%s"]' % (form, n))]
    check("and only the lecture's fields", not others, "it also asks for %s" % " ".join(others))
    b.viewport(390, 844, mobile=True)
    flow.go("/record?category=lecture")
    wide = b.eval("document.documentElement.scrollWidth")
    check("on a phone's screen (390 px) the form fits its width", wide <= 390,
          "the page is %s px wide" % wide)
    flow.shot("node-record-small.png", docs=False)
    b.viewport(1024, 768)
    flow.go("/record?category=lecture")
    b.fill('[name="teacher_id"]', teacher)
    b.fill('[name="date"]', date)
    b.fill('[name="minutes"]', "90")
    b.fill('select[name="role"]', "参与者")
    if b.exists('[name="note"]'):
        b.fill('[name="note"]', "乡村课堂专题讲座")
    flow.shot("node-record.png")
    b.submit(form)
    added = re.match(r"^/records\?added=(\d+)$", flow.path())
    if not check("登记 goes on to /records?added=SEQ", added is not None,
                 "it went to %s; #error says %r" % (flow.path(), b.text("#error"))):
        return 1
    seq = added.group(1)
    row = "tr#r-%s" % seq
    check("/records shows the new record %s for %s" % (seq, teacher),
          teacher in b.text(row), "row %s: %r" % (row, b.text(row)))

    after = flow.provisional(teacher, year)
    check("/totals: %s's provisional total changes with the lecture (%s → %s)"
          % (teacher, before, after), after is not None and after != before)

    # ---- 作废: void it with a reason -----------------------------------------------------------
    flow.go("/records")
    void_form = '%s form[method="post"][action="/void"]' % row
    if not check("its row on /records has a 作废 form with seq and reason",
                 b.exists(void_form + ' input[type="hidden"][name="seq"][value="%s"]' % seq) and
                 b.exists(void_form + ' [name="reason"]'), "no void form in %s" % row):
        return 1
    b.fill(void_form + ' [name="reason"]', "日期登记错了")
    b.submit(void_form)
    check("作废 goes on to /records?voided=%s" % seq, flow.path() == "/records?voided=" + seq,
          "it went to %s; #error says %r" % (flow.path(), b.text("#error")))
    flow.go("/records")
    check("the voided record's row says 已作废", "已作废" in b.text(row),
          "row %s: %r" % (row, b.text(row)))
    check("and has no 作废 form any more", not b.exists(void_form))

    voided = flow.provisional(teacher, year)
    check("/totals: the void takes the lecture back out (%s → %s)" % (after, voided),
          voided == before, "expected %s" % before)

    # ---- 导入: a sheet with a bad row ----------------------------------------------------------
    flow.go("/import")
    form = 'form[method="post"][action="/import"][enctype="multipart/form-data"]'
    if not check("/import has a multipart form with a file input named sheet",
                 b.exists(form + ' input[type="file"][name="sheet"]')):
        return 1
    b.set_file(form + ' input[type="file"][name="sheet"]', sheet)
    if b.exists(form + ' [name="operator"]'):
        b.fill(form + ' [name="operator"]', "教务处")
    b.submit(form)
    summary = b.text("#summary")
    check("#summary counts the sheet: %s" % summary,
          "新登记 2 条" in summary and "拒绝 1 条" in summary,
          "expected 新登记 2 条 … 拒绝 1 条")
    rows = flow.refused_rows()
    check("#refused names line 3, its date field and a reason: %s" % rows,
          len(rows) == 1 and len(rows[0]) >= 3 and re.search(r"(^|\D)3(\D|$)", rows[0][0])
          and ("date" in rows[0][1] or "日期" in rows[0][1]) and rows[0][2] != "")
    flow.shot("node-import.png")

    # ---- a refused form: a missing required field ----------------------------------------------
    flow.go("/record?category=lecture")
    form = 'form[method="post"][action="/record"]'
    b.fill('[name="teacher_id"]', "T0009")
    b.fill('[name="date"]', date)
    b.fill('[name="minutes"]', "")
    # As a browser that does not check `required` would: the server must refuse by itself.
    b.eval("document.querySelector('%s').noValidate = true" % form)
    b.submit(form)
    error = b.text("#error")
    check("a lecture without minutes is refused, #error naming 分钟: %s" % error,
          "分钟" in error and b.exists("p.error#error"))
    check("the refused form comes back filled in (teacher T0009)",
          b.exists(form) and b.eval("(document.querySelector('[name=\"teacher_id\"]')||{})"
                                    ".value") == "T0009")
    flow.shot("node-record-refused.png", docs=False)

    flow.go("/totals?year=" + year)  # the teachers of the sheet too
    flow.shot("node-totals.png")
    return 0


def main(argv):
    if len(argv) != 8:
        print("usage: node_web_flow.py CHROMIUM BASE_URL TEACHER DATE YEAR SHEET SHOT_DIRS",
              file=sys.stderr)
        return 2
    chromium, base, teacher, date, year, sheet, shot_dirs = argv[1:]
    try:
        with Browser(chromium) as browser:
            return run(Flow(browser, base, shot_dirs), teacher, date, year, sheet)
    except CdpError as e:
        check("the browser session, after the check \"%s\"" % LAST[0], False, str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
