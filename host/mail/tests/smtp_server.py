"""A real SMTP server (aiosmtpd) for the mail transport's tests.

Listens on 127.0.0.1 on a port the system picks and prints `READY <port>`
once it accepts connections; stops when its standard input closes (the test
dropped it). Every message accepted is saved in --dir as `<n>.eml` (the raw
DATA bytes, as received) and `<n>.json` (envelope, authenticated user and
mechanism, whether the session was encrypted).

Recipients steer the answers: a local part `tempfail` gets 451 at RCPT,
`reject` gets 550, anything else is accepted.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "tempfail":
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if local == "reject":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.folder, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            user = session.auth_data.login.decode()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "user": user,
            "mechanism": getattr(session, "mechanism", None),
            "encrypted": session.ssl is not None,
        }
        # The JSON is written last: its presence means the message is complete.
        with open(base + ".json", "w") as f:
            json.dump(record, f)
        return "250 2.0.0 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        if not ok:
            # Not handled: aiosmtpd answers 535 itself.
            return AuthResult(success=False, handled=False)
        session.mechanism = mechanism
        return AuthResult(success=True, auth_data=auth_data)

    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--no-starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--login-only", action="store_true", help="offer AUTH LOGIN, not PLAIN")
    args = parser.parse_args()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler = Recorder(args.dir)
    params = {"hostname": "relay.test", "enable_SMTPUTF8": True}
    if args.user:
        params["authenticator"] = authenticator(args.user, args.password)
        params["auth_required"] = True
        if args.login_only:
            params["auth_exclude_mechanism"] = ["PLAIN"]
    if args.implicit_tls:
        # The whole connection is TLS: aiosmtpd only knows of STARTTLS, so
        # AUTH must not wait for one.
        params["auth_require_tls"] = False
    elif context is not None and not args.no_starttls:
        params["tls_context"] = context
        params["require_starttls"] = True
    elif args.user:
        # No TLS at all: let AUTH be offered in clear so the client's refusal
        # to use it is what the test sees.
        params["auth_require_tls"] = False

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, loop=loop, **params),
            host="127.0.0.1",
            port=0,
            ssl=context if args.implicit_tls else None,
        )
    )
    port = server.sockets[0].getsockname()[1]

    def wait_for_eof():
        sys.stdin.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=wait_for_eof, daemon=True).start()
    print(f"READY {port}", flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main()
