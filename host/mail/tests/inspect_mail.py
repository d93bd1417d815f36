"""Read a message as a receiver would, with checkers nobody here wrote:
Python's `email` package under `policy.strict` (any defect raises) and
dkimpy for the DKIM signature.

argv: the raw message file, then optionally the DNS name and TXT record of
the signer's public key (`<selector>._domainkey.<domain>`, `v=DKIM1; k=rsa;
p=...`). Prints what the test asserts on, as JSON.
"""

import email
import email.policy
import json
import sys

import dkim
import dkim.util


def defects_of(message):
    found = [str(d) for d in message.defects]
    for name, value in message.items():
        found += [f"{name}: {d}" for d in getattr(value, "defects", ())]
    return found


def main():
    raw = open(sys.argv[1], "rb").read()
    message = email.message_from_bytes(raw, policy=email.policy.strict)

    defects = []
    parts = []
    for part in message.walk():
        defects += defects_of(part)
        if part.is_multipart():
            continue
        parts.append(
            {
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding"),
                "content": part.get_content(),
            }
        )

    sender = message["From"].addresses[0]
    date = message["Date"]
    result = {
        "defects": defects,
        "subject": str(message["Subject"]),
        "from_name": sender.display_name,
        "from_address": sender.addr_spec,
        "to": [a.addr_spec for a in message["To"].addresses],
        "date": date.datetime.isoformat() if date is not None and date.datetime else None,
        "message_id": message["Message-ID"],
        "mime_version": message["MIME-Version"],
        "content_type": message.get_content_type(),
        "parts": parts,
        "headers": [[k, str(v)] for k, v in message.items()],
        # RFC 5322 2.1.1 and 2.3: lines end in CRLF and are at most 998 octets.
        "max_line": max(len(line) for line in raw.split(b"\r\n")),
        "bare_lf": raw.replace(b"\r\n", b"").count(b"\n"),
        "bare_cr": raw.replace(b"\r\n", b"").count(b"\r"),
        "dkim": None,
    }

    if len(sys.argv) > 3:
        name, record = sys.argv[2], sys.argv[3]

        def dns(query, timeout=5):
            # Only the signer's key exists in this DNS.
            if isinstance(query, bytes):
                query = query.decode()
            if query.rstrip(".").lower() == name.lower():
                return record.encode()
            return None

        result["dkim"] = dkim.verify(raw, dnsfunc=dns)
        signature = message["DKIM-Signature"]
        if signature is not None:
            tags = dkim.util.parse_tag_value(str(signature).encode())
            result["dkim_tags"] = {k.decode(): v.decode() for k, v in tags.items() if k != b"b"}

    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
