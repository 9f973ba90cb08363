# Raw protobuf for the e2e tests that talk to a service directly
# (tests/lib/rpc.sh).
#   pb.py enc EXPR [ARG...]: hex of a message built with s(field, str|bytes)
#     and v(field, int); EXPR may use the ARGs as A[0], A[1], ...
#   pb.py get HEX PATH: the field at PATH (dotted field numbers, the last may
#     repeat: all values, one a line), as text.
import sys
def varint(n):
    out = b""
    while n >= 128:
        out += bytes([n % 128 + 128]); n //= 128
    return out + bytes([n])
def s(f, x):
    if isinstance(x, str): x = x.encode()
    return varint(f * 8 + 2) + varint(len(x)) + x
def v(f, n): return varint(f * 8) + varint(n)
def fields(b):
    i = 0
    while i < len(b):
        k = 0; sh = 0
        while True:
            c = b[i]; i += 1; k |= (c & 127) << sh; sh += 7
            if c < 128: break
        f, wt = k >> 3, k & 7
        if wt == 0:
            n = 0; sh = 0
            while True:
                c = b[i]; i += 1; n |= (c & 127) << sh; sh += 7
                if c < 128: break
            yield f, n
        elif wt == 2:
            n = 0; sh = 0
            while True:
                c = b[i]; i += 1; n |= (c & 127) << sh; sh += 7
                if c < 128: break
            yield f, b[i:i + n]; i += n
        else:
            raise SystemExit("wire type %d" % wt)
if sys.argv[1] == "enc":
    A = sys.argv[3:]
    print(eval(sys.argv[2]).hex())
else:
    vals = [bytes.fromhex(sys.argv[2])]
    for p in sys.argv[3].split("."):
        vals = [x for b in vals for f, x in fields(b) if f == int(p)]
    for x in vals:
        print(x if isinstance(x, int) else x.decode())
