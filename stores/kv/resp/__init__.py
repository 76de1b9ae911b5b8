"""The RESP2/RESP3 codec, sans-I/O: bytes in, commands or replies out.

Four halves of two pairs, each in its own module, shared by the server and
any client-side use:

- ``request_reader.RequestReader``: client bytes -> commands (server side);
- ``reply_writer.encode_reply``: reply values -> bytes (server side);
- ``request_writer.encode_command``: commands -> bytes (client side);
- ``reply_reader.ReplyReader``: server bytes -> reply values (client side).

Nothing here opens a socket, starts a thread or imports the engine proper.
The wire format and its limits are described in docs/kv/protocol.md.
"""

from stores.kv.resp.errors import ProtocolError, QueryBufferLimitError
from stores.kv.resp.reply_reader import NEED_DATA, ReplyReader
from stores.kv.resp.reply_writer import encode_reply, reply_encoder
from stores.kv.resp.request_reader import RequestReader
from stores.kv.resp.request_writer import encode_command, encode_pipeline

__all__ = [
    "NEED_DATA",
    "ProtocolError",
    "QueryBufferLimitError",
    "ReplyReader",
    "RequestReader",
    "encode_command",
    "encode_pipeline",
    "encode_reply",
    "reply_encoder",
]
