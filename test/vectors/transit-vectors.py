#!/usr/bin/python3
# Regenerates the golden values in test/unit/transit-records.test.ts from magic-wormhole 0.12
# (Debian): the transit record keys and records as transit.py seals them, and the JSON bytes
# its file-transfer messages have. Run with Debian's interpreter: /usr/bin/python3 test/vectors/transit-vectors.py
from wormhole.util import HKDF, dict_to_bytes
from wormhole._key import derive_key
from nacl.secret import SecretBox
from binascii import hexlify, unhexlify
KEY = bytes(range(32))
APPID = "lothar.com/wormhole/text-or-file-xfer"
tk = derive_key(KEY, (APPID + "/transit-key").encode())
s = HKDF(tk, 32, CTXinfo=b"transit_record_sender_key")
r = HKDF(tk, 32, CTXinfo=b"transit_record_receiver_key")
print("transit_key", hexlify(tk).decode())
print("sender_key", hexlify(s).decode())
print("receiver_key", hexlify(r).decode())
def rec(key, n, data):
    nonce = unhexlify("%048x" % n)
    enc = SecretBox(key).encrypt(data, nonce)
    return hexlify(unhexlify("%08x" % len(enc)) + enc).decode()
print("sender_rec0", rec(s, 0, b"hello"))
print("sender_rec1", rec(s, 1, b""))
print("receiver_rec0", rec(r, 0, dict_to_bytes({"ack": "ok", "sha256": "00"*32})))
print("big_nonce", rec(s, 258, b"x"))
print(dict_to_bytes({"offer": {"file": {"filename": "a b.txt", "filesize": 3}}}))
print(dict_to_bytes({"ack": "ok", "sha256": "ab"}))
