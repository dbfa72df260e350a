#!/usr/bin/python3
"""Drives the PollMasters compat API the way the existing Python GUI does.

Usage: /usr/bin/python3 test/python/gui_client_test.py <server-url> [<ledger-url>]

The server must run in sandbox mode. It uses Debian's python3-socketio (5.x) and
python3-requests, like the GUI: it connects the Socket.IO client, follows client_status to
"ready", fetches the chats, sends one poll to several chats (allowMultipleAnswers both
ways), follows new_poll_sent and poll_update_to_gui until every vote the sandbox cast (its
ledger, GET /sandbox/ledger) is counted, fetches all poll data, logs out and waits for the
fresh QR. It asserts every field the GUI reads (docs/contract/python-gui-client.md) and exits
non-zero on the first failure.
"""

import hashlib
import random
import sys
import threading
import time
import traceback

try:
    import requests
    import socketio
except ImportError as err:  # pragma: no cover - environment check
    print(
        f"missing {err.name}: apt-get install -y python3-socketio python3-requests",
        file=sys.stderr,
    )
    sys.exit(3)

STATUSES = {"ready", "qr_pending", "logged_out", "disconnected", "auth_failure"}
EVENTS = (
    "client_status",
    "qr_code",
    "whatsapp_user",
    "initial_poll_data",
    "new_poll_sent",
    "poll_update_to_gui",
)
POLL_FIELDS = (
    "question",
    "options",
    "optionHashes",
    "results",
    "voters",
    "chatId",
    "timestamp",
    "selectableCount",
)
QUESTION = "Where do we meet?"
OPTIONS = ["Café", "Library", "Park 🌳"]
DEADLINE_SECONDS = 45.0


def log(message):
    print(message, flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Events:
    """Every Socket.IO event received, in order, with waits on them (no fixed sleeps)."""

    def __init__(self, sio):
        self.items = []
        self.cond = threading.Condition()
        for name in EVENTS:
            sio.on(name, self._recorder(name))

    def _recorder(self, name):
        def record(payload=None):
            with self.cond:
                self.items.append((name, payload))
                self.cond.notify_all()

        return record

    def count(self):
        with self.cond:
            return len(self.items)

    def payloads(self, name):
        with self.cond:
            return [p for n, p in self.items if n == name]

    def wait_index(self, name, start=0, test=lambda p: True, timeout=20.0, what=None):
        """Index of the first `name` event at or after `start` that passes `test`."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.items)):
                    n, p = self.items[i]
                    if n == name and test(p):
                        return i
                left = end - time.monotonic()
                if left <= 0:
                    got = ", ".join(n for n, _ in self.items)
                    raise AssertionError(f"timed out waiting for {what or name}; got: {got}")
                self.cond.wait(left)

    def wait_more(self, count, timeout):
        """Waits until more than `count` events arrived; False after `timeout`."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.items) <= count:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def payload(self, index):
        with self.cond:
            return self.items[index][1]


def check_poll_data(data, where, poll_id=None):
    """Every field the GUI reads of a poll data object."""
    check(isinstance(data, dict), f"{where}: poll data must be a dict, got {data!r}")
    for field in POLL_FIELDS:
        check(field in data, f"{where}: poll data lacks {field!r}: {data!r}")
    check(isinstance(data["question"], str) and data["question"], f"{where}: question")
    options = data["options"]
    check(isinstance(options, list) and all(isinstance(o, str) for o in options), f"{where}: options")
    option_hashes = data["optionHashes"]
    check(isinstance(option_hashes, dict), f"{where}: optionHashes must be a dict hash -> text")
    check(
        list(option_hashes.items()) == [(sha256_hex(o), o) for o in options],
        f"{where}: optionHashes {option_hashes!r} != sha256 hex -> text of {options!r}",
    )
    results = data["results"]
    check(isinstance(results, dict), f"{where}: results must be a dict")
    check(list(results.keys()) == options, f"{where}: results keys {list(results)} != {options}")
    check(all(isinstance(n, int) and n >= 0 for n in results.values()), f"{where}: counts")
    voters = data["voters"]
    check(isinstance(voters, dict), f"{where}: voters must be a dict")
    for voter, selected in voters.items():
        check("@" in voter, f"{where}: voter {voter!r} is no JID")
        check(isinstance(selected, list) and selected, f"{where}: voter {voter} selection")
        check(all(h in option_hashes for h in selected), f"{where}: voter {voter} has unknown hashes")
    for digest, option in option_hashes.items():
        counted = sum(1 for s in voters.values() if digest in s)
        check(results[option] == counted, f"{where}: results[{option!r}] != voters")
    ts = data["timestamp"]
    now_ms = time.time() * 1000
    check(isinstance(ts, (int, float)), f"{where}: timestamp must be a number")
    check(abs(now_ms - ts) < 3_600_000, f"{where}: timestamp {ts} is not in milliseconds")
    check(isinstance(data["chatId"], str) and "@" in data["chatId"], f"{where}: chatId")
    check(data["selectableCount"] in (0, 1), f"{where}: selectableCount {data['selectableCount']}")
    if poll_id is not None:
        check(len(poll_id) >= 6, f"{where}: the GUI shows the last 6 characters of {poll_id!r}")
    if data["selectableCount"] == 1:
        check(all(len(s) == 1 for s in voters.values()), f"{where}: single choice voted twice")


def expected_view(votes):
    """The ledger's voter -> option names, as the compat voters and results."""
    voters = {v: sorted(sha256_hex(o) for o in names) for v, names in votes.items()}
    results = {o: sum(1 for names in votes.values() if o in names) for o in OPTIONS}
    return voters, results


def same_state(data, votes):
    voters, results = expected_view(votes)
    got = {v: sorted(h) for v, h in data["voters"].items()}
    return got == voters and data["results"] == results


class GuiClient:
    def __init__(self, url, ledger_url):
        self.url = url.rstrip("/")
        self.ledger_url = ledger_url
        self.http = requests.Session()
        # As the GUI: reconnects on its own, 10 attempts, 3 s apart.
        self.sio = socketio.Client(reconnection=True, reconnection_attempts=10, reconnection_delay=3)
        self.events = Events(self.sio)

    def get(self, path, timeout):
        res = self.http.get(f"{self.url}{path}", timeout=timeout)
        res.raise_for_status()
        return res.json()

    def post(self, path, timeout, body=None):
        res = self.http.post(f"{self.url}{path}", json=body, timeout=timeout)
        res.raise_for_status()
        return res.json()

    def ledger(self):
        res = self.http.get(self.ledger_url, timeout=5)
        check(
            res.status_code == 200,
            f"GET {self.ledger_url} answered {res.status_code}: the server must run with "
            f"--sandbox and expose the sandbox ledger ({res.text[:200]})",
        )
        body = res.json()
        polls, pending = body.get("polls"), body.get("pending")
        check(isinstance(polls, dict), f"the ledger's polls must be a dict: {res.text[:200]}")
        check(isinstance(pending, dict), f"the ledger's pending must be a dict: {res.text[:200]}")
        return polls, pending

    def run(self):
        ev = self.events
        self.sio.connect(self.url, wait_timeout=10)
        log(f"connected to {self.url} ({self.sio.transport()})")

        first = ev.wait_index("client_status")
        check(ev.payload(first) in STATUSES, f"client_status {ev.payload(first)!r}")
        ready_at = ev.wait_index("client_status", 0, lambda s: s == "ready", what="ready")
        for status in ev.payloads("client_status"):
            check(status in STATUSES, f"unknown client_status {status!r}")
        user = ev.payload(ev.wait_index("whatsapp_user", first))
        check(isinstance(user, dict), f"whatsapp_user must be a dict: {user!r}")
        check(isinstance(user.get("id"), str) and "@" in user["id"], f"whatsapp_user.id {user!r}")
        check(isinstance(user.get("name"), str) and user["name"], f"whatsapp_user.name {user!r}")
        initial = ev.payload(ev.wait_index("initial_poll_data"))
        check(isinstance(initial, dict), f"initial_poll_data must be a dict: {initial!r}")
        for poll_id, data in initial.items():
            check_poll_data(data, f"initial_poll_data[{poll_id}]", poll_id)
        log(f"ready as {user['name']} ({user['id']}) after {ready_at + 1} events")

        status = self.get("/status", 3)
        check(status.get("status") == "ready", f"GET /status: {status!r}")
        check(not status.get("qrCode"), f"GET /status has a qrCode when ready: {status!r}")

        chats = self.get("/get-chats", 10)
        check(chats.get("success") is True, f"GET /get-chats: {chats.get('message')!r}")
        check(isinstance(chats.get("chats"), list) and chats["chats"], "GET /get-chats: no chats")
        for chat in chats["chats"]:
            check(isinstance(chat.get("id"), str) and "@" in chat["id"], f"chat id {chat!r}")
            check(isinstance(chat.get("name"), str), f"chat name {chat!r}")
            check(isinstance(chat.get("isGroup"), bool), f"chat isGroup {chat!r}")
        # The sandbox accepts messages to its groups, but only to a few of the contacts listed.
        targets = [c for c in chats["chats"] if c["isGroup"]][:3]
        check(len(targets) >= 2, f"need two groups to send to, got {targets!r}")
        all_data = self.get("/get-all-poll-data", 10)
        check(all_data.get("success") is True and isinstance(all_data.get("polls"), dict), "polls")
        log(f"{len(chats['chats'])} chats; sending to {[c['name'] for c in targets]}")

        sent = {}  # pollMsgId -> (chatId, allowMultipleAnswers)
        for multi in (True, False):
            for chat in targets:
                body = {
                    "chatId": chat["id"],
                    "question": QUESTION,
                    "options": OPTIONS,
                    "allowMultipleAnswers": multi,
                }
                res = self.post("/send-poll", 15, body)
                check(res.get("success") is True, f"POST /send-poll: {res!r}")
                check(isinstance(res.get("message"), str), f"POST /send-poll message: {res!r}")
                poll_id = res.get("pollMsgId")
                check(isinstance(poll_id, str) and poll_id, f"POST /send-poll pollMsgId: {res!r}")
                sent[poll_id] = (chat["id"], multi)
                time.sleep(random.uniform(0.02, 0.1))  # the GUI pauses between sends
        log(f"sent {len(sent)} polls")

        # What the GUI keeps per poll: new_poll_sent adds it, updates replace results and voters.
        polls = {}
        for poll_id, (chat_id, multi) in sent.items():
            i = ev.wait_index(
                "new_poll_sent",
                0,
                lambda p, pid=poll_id: isinstance(p, dict) and p.get("pollMsgId") == pid,
                what=f"new_poll_sent {poll_id}",
            )
            payload = ev.payload(i)
            check("pollData" in payload, f"new_poll_sent lacks pollData: {payload!r}")
            data = payload["pollData"]
            check_poll_data(data, f"new_poll_sent[{poll_id}]", poll_id)
            check(data["question"] == QUESTION and data["options"] == OPTIONS, "new_poll_sent poll")
            check(data["chatId"] == chat_id, f"new_poll_sent chatId {data['chatId']} != {chat_id}")
            check(data["selectableCount"] == (0 if multi else 1), "selectableCount mapping")
            polls[poll_id] = dict(data)

        deadline = time.monotonic() + DEADLINE_SECONDS
        seen = 0
        updates = 0
        while True:
            for payload in ev.payloads("poll_update_to_gui")[seen:]:
                seen += 1
                updates += 1
                check(isinstance(payload, dict), f"poll_update_to_gui: {payload!r}")
                poll_id = payload.get("pollMsgId")
                check(isinstance(poll_id, str), f"poll_update_to_gui pollMsgId: {payload!r}")
                check_poll_data(payload, f"poll_update_to_gui[{poll_id}]", poll_id)
                if poll_id in polls:
                    polls[poll_id]["results"] = payload["results"]
                    polls[poll_id]["voters"] = payload["voters"]
            ledger, pending = self.ledger()
            # Done when the network has nothing left to send for these polls (pending 0)
            # and what the GUI holds equals what it cast.
            done = all(
                pending.get(pid) == 0
                and ledger.get(pid)
                and same_state(polls[pid], ledger[pid])
                for pid in sent
            )
            now = time.monotonic()
            if done:
                break
            if now > deadline:
                lines = []
                for pid in sent:
                    lines.append(f"  {pid}: gui={polls[pid]['voters']} ledger={ledger.get(pid)}")
                raise AssertionError("votes never matched the ledger:\n" + "\n".join(lines))
            ev.wait_more(ev.count(), 0.25)
        total = sum(len(polls[pid]["voters"]) for pid in sent)
        log(f"all votes counted: {total} voters over {len(sent)} polls, {updates} updates")

        all_data = self.get("/get-all-poll-data", 10)
        check(all_data.get("success") is True, f"GET /get-all-poll-data: {all_data!r}")
        check(isinstance(all_data.get("polls"), dict), "GET /get-all-poll-data: polls not a dict")
        for pid in sent:
            data = all_data["polls"].get(pid)
            check(data is not None, f"GET /get-all-poll-data lacks {pid}")
            check_poll_data(data, f"get-all-poll-data[{pid}]", pid)
            check(data["results"] == polls[pid]["results"], f"{pid}: results differ from events")
            check(data["voters"] == polls[pid]["voters"], f"{pid}: voters differ from events")

        before = ev.count()
        res = self.post("/logout", 15)
        check(res.get("success") is True, f"POST /logout: {res!r}")
        check(isinstance(res.get("message"), str) and res["message"], f"POST /logout: {res!r}")
        out = ev.wait_index("client_status", before, lambda s: s == "logged_out", what="logged_out")
        qr = ev.payload(ev.wait_index("qr_code", out, what="a fresh QR after logout"))
        check(isinstance(qr, str) and qr, f"qr_code must be a non-empty string: {qr!r}")
        check(not qr.startswith("data:") and "," in qr, f"qr_code must be the raw payload: {qr!r}")
        after = self.get("/get-all-poll-data", 10)
        check(all(pid in after.get("polls", {}) for pid in sent), "polls stay after a logout")
        log("logged out; a fresh QR arrived; polls are still readable")


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/")
    ledger_url = sys.argv[2] if len(sys.argv) > 2 else f"{url}/sandbox/ledger"
    client = GuiClient(url, ledger_url)
    try:
        client.run()
    except Exception:  # noqa: BLE001 - report anything and fail
        traceback.print_exc()
        return 1
    finally:
        client.sio.disconnect()
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
