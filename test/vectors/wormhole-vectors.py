#!/usr/bin/python3
# Regenerates the golden values in test/unit/spake2.test.ts and test/unit/wormhole-keys.test.ts
# from the reference implementations (Debian python3-spake2 0.8, magic-wormhole 0.12).
# Run with Debian's interpreter: /usr/bin/python3 test/vectors/wormhole-vectors.py
import json
from hashlib import sha256
from spake2 import SPAKE2_Symmetric
from spake2.parameters.ed25519 import ParamsEd25519
from wormhole._key import derive_key, derive_phase_key
from wormhole.transit import build_receiver_handshake, build_sender_handshake, build_sided_relay_handshake
from nacl.secret import SecretBox

APPID = b"lothar.com/wormhole/text-or-file-xfer"

def fixed(seed):
    # 64 bytes of "entropy": python-spake2 turns them into the secret scalar (big-endian mod L)
    return lambda n: sha256(seed + b"-a").digest() + sha256(seed + b"-b").digest()

out = {"S": ParamsEd25519.S.to_bytes().hex()}
cases = []
for pw_a, pw_b, seed_a, seed_b in [(b"7-purple-sausage", b"7-purple-sausage", b"alice", b"bob"),
                                   (b"7-purple-sausage", b"7-purple-sausages", b"alice", b"bob")]:
    a = SPAKE2_Symmetric(pw_a, idSymmetric=APPID, entropy_f=fixed(seed_a))
    b = SPAKE2_Symmetric(pw_b, idSymmetric=APPID, entropy_f=fixed(seed_b))
    ma, mb = a.start(), b.start()
    cases.append({"pwA": pw_a.decode(), "pwB": pw_b.decode(),
                  "entropyA": fixed(seed_a)(64).hex(), "entropyB": fixed(seed_b)(64).hex(),
                  "msgA": ma.hex(), "msgB": mb.hex(),
                  "keyA": a.finish(mb).hex(), "keyB": b.finish(ma).hex()})
out["spake2"] = cases

key = bytes(range(32))
out["key"] = key.hex()
out["verifier"] = derive_key(key, b"wormhole:verifier").hex()
out["phaseKey_side0123_version"] = derive_phase_key(key, "0123456789abcdef", "version").hex()
out["phaseKey_side0123_0"] = derive_phase_key(key, "0123456789abcdef", "0").hex()
transit = derive_key(key, b"lothar.com/wormhole/text-or-file-xfer/transit-key")
out["transitKey"] = transit.hex()
out["senderHandshake"] = build_sender_handshake(transit).decode()
out["receiverHandshake"] = build_receiver_handshake(transit).decode()
out["relayHandshake"] = build_sided_relay_handshake(transit, "0123456789abcdef").decode()
out["recordSenderKey"] = derive_key(transit, b"transit_record_sender_key").hex()
nonce = bytes(24)
out["box"] = SecretBox(bytes(range(32))).encrypt(b'{"app_versions": {}}', nonce).hex()
print(json.dumps(out, indent=1))
