"""The CQL native protocol v4, sans-I/O: bytes in, messages out, and back.

``frames`` splits bytes into frames, ``requests`` decodes request bodies,
``responses`` encodes response bodies, ``connection`` ties them into one
connection's state; ``dispatch`` answers requests through the CQL layer. No
module here opens a socket or starts a thread.
"""
