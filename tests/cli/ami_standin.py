#!/usr/bin/env python3
"""A stand-in for Asterisk's Manager interface (AMI), for tests/cli/notify.sh.

Asterisk is not packaged for Debian 12, so this speaks the protocol as
Asterisk documents it: the banner line "Asterisk Call Manager/VERSION", then
messages of "Key: Value" lines ended by an empty line, each action answered
by a Response carrying the ActionID it was sent with.  It implements Login
(Success or Error "Authentication failed"), PJSIPNotify and SIPnotify
(Success "NOTIFY sent", or Error "Unable to find endpoint" for an endpoint
named missing*), Logoff ("Goodbye"), and sends an unsolicited Event before
each answer, as a real Manager may.  Every action is appended to LOG as one
line of its headers.  --drop-after N closes the connection after N actions.

    ami_standin.py PORTFILE LOG USER SECRET [--drop-after N]

It listens on 127.0.0.1 (a free port, written to PORTFILE), serves one
connection, and exits; it gives up after 20 seconds in any case.
"""
import socket, sys

portfile, log, user, secret = sys.argv[1:5]
drop_after = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == '--drop-after' else None

srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
srv.settimeout(20)
open(portfile, 'w').write(str(srv.getsockname()[1]))
conn, _ = srv.accept()
conn.settimeout(20)
conn.sendall(b'Asterisk Call Manager/7.0.3\r\n')
buf = b''
actions = 0
logged_in = False

def reply(headers, fields):
    aid = headers.get('actionid')
    msg = b'Event: PeerStatus\r\nPrivilege: system,all\r\nPeer: PJSIP/other\r\n\r\n'
    msg += ''.join('%s: %s\r\n' % kv for kv in fields).encode()
    if aid is not None:
        msg += ('ActionID: %s\r\n' % aid).encode()
    conn.sendall(msg + b'\r\n')

with open(log, 'a') as out:
    while True:
        while b'\r\n\r\n' not in buf:
            data = conn.recv(4096)
            if not data:
                sys.exit(0)
            buf += data
        block, buf = buf.split(b'\r\n\r\n', 1)
        headers, order = {}, []
        for line in block.decode().split('\r\n'):
            k, _, v = line.partition(':')
            headers[k.strip().lower()] = v.strip()
            order.append('%s: %s' % (k.strip(), v.strip()))
        action = headers.get('action', '').lower()
        shown = [h if not h.lower().startswith('secret:') else 'Secret: ***' for h in order]
        out.write(' | '.join(shown) + '\n')
        out.flush()
        actions += 1
        if action == 'login':
            logged_in = headers.get('username') == user and headers.get('secret') == secret
            reply(headers, [('Response', 'Success'), ('Message', 'Authentication accepted')] if logged_in
                  else [('Response', 'Error'), ('Message', 'Authentication failed')])
        elif action == 'logoff':
            reply(headers, [('Response', 'Goodbye'), ('Message', 'Thanks for all the fish.')])
            conn.close()
            sys.exit(0)
        elif not logged_in:
            reply(headers, [('Response', 'Error'), ('Message', 'Permission denied')])
        elif action in ('pjsipnotify', 'sipnotify'):
            target = headers.get('endpoint') or headers.get('channel', '')
            if 'missing' in target:
                reply(headers, [('Response', 'Error'), ('Message', 'Unable to find endpoint')])
            else:
                reply(headers, [('Response', 'Success'), ('Message', 'NOTIFY sent')])
        else:
            reply(headers, [('Response', 'Error'), ('Message', 'Invalid/unknown command')])
        if drop_after is not None and actions >= drop_after:
            conn.close()
            sys.exit(0)
