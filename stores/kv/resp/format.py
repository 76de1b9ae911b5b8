"""The RESP2/RESP3 wire format: type bytes, limits and their Redis defaults.

Shared by the request reader and writer and the reply reader and writer, so
a constant that defines the format lives here once. Holds no code.
"""

CRLF = b"\r\n"

# Type bytes (the first byte of every RESP value).
ARRAY = ord("*")
BULK = ord("$")
SIMPLE = ord("+")
ERROR = ord("-")
INTEGER = ord(":")
# RESP3 only.
NULL = ord("_")
DOUBLE = ord(",")
BOOLEAN = ord("#")
BLOB_ERROR = ord("!")
VERBATIM = ord("=")
BIG_NUMBER = ord("(")
MAP = ord("%")
SET = ord("~")
ATTRIBUTE = ord("|")
PUSH = ord(">")

# Redis's PROTO_INLINE_MAX_SIZE: the longest inline request line, and the
# longest "*<count>" or "$<length>" line of a multibulk request.
INLINE_MAX_SIZE = 64 * 1024

# proto-max-bulk-len: the longest bulk string argument (512mb).
DEFAULT_PROTO_MAX_BULK_LEN = 512 * 1024 * 1024

# client-query-buffer-limit: the most unprocessed request bytes per client (1gb).
DEFAULT_QUERY_BUFFER_LIMIT = 1024 * 1024 * 1024

# The largest multibulk count Redis accepts (INT_MAX).
MAX_MULTIBULK_LEN = 2**31 - 1

# Until a client has authenticated on a server with a password, Redis caps
# the request size so that a stranger cannot make it allocate much.
UNAUTHENTICATED_MAX_MULTIBULK_LEN = 10
UNAUTHENTICATED_MAX_BULK_LEN = 16384

# Redis's string2ll refuses strings this long or longer (LONG_STR_SIZE).
LONG_STR_SIZE = 21
