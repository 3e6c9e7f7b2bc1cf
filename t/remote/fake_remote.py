#!/usr/bin/env python3
"""A local stand-in for the OpenAI and Pinecone (data plane) HTTP APIs.

Python 3.11 standard library only.  One process and one port serve both
APIs (their paths do not collide) plus a few /_control/ endpoints that let
a test inject faults and see what a client sent.  The wire formats follow
/work/shared/specs/remote-apis.md.

    fake_remote.py --port N [--host 127.0.0.1] [--openai-key KEY]
                   [--pinecone-key KEY] [--dims 1536] [--state FILE]

--port 0 picks a free port.  Once listening it prints "ready <port>" on
stdout.  Keys default to $OPENAI_API_KEY / $PINECONE_API_KEY; an empty
--openai-key '' / --pinecone-key '' turns the check off even when the
variable is set.  One line per request goes to stderr: method path
status ms.

Tokens are counted as ceil(len(utf-8 bytes) / 4) everywhere (inputs, the
8192 / 300,000 embedding limits, usage, max_tokens).

Embeddings are a deterministic bag of words: lower-case, words of
[a-z0-9]+, a small stop-word list dropped, crude stemming (plural -s, -es
after s/x/z/ch/sh, -ies -> y, -ing, -ed, then a final -e, all only when
3+ characters stay), each word adding +1/-1 at 3 positions picked by
SHA-256, then L2 normalisation; an empty bag gives the fixed unit vector
(1/sqrt(d), ...).  Values are float32 (the float and base64 formats carry
the same numbers).  A `dimensions` request is computed at that length
directly (not truncated from the native length).

See t/remote/README.md for the control API.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 64 * 1024 * 1024

# ---------------------------------------------------------------- helpers


class ApiError(Exception):
    """An error reply: status, a message and, for OpenAI, param/code/type."""

    def __init__(self, status, message, param=None, code=None, type_=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type_


def is_num(x):
    return (isinstance(x, (int, float)) and not isinstance(x, bool)
            and math.isfinite(x))


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def tokens(text):
    return -(-len(text.encode("utf-8")) // 4)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _no_constants(name):
    raise ValueError("invalid JSON constant " + name)


def loads(raw):
    return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)


# ---------------------------------------------------------------- embedder

STOP_WORDS = frozenset("""
a an and are as at be been but by can do does for from had has have he her
his i if in into is it its me my not of on or our she so than that the their
them then there these they this those to too very was we were what when which
who will with you your about just also
""".split())


def stem(w):
    if len(w) >= 5 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif (w.endswith(("ches", "shes")) or (len(w) >= 4 and w.endswith("es")
                                           and w[-3] in "sxz")) \
            and len(w) - 2 >= 3:
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) \
            and len(w) - 1 >= 3:
        w = w[:-1]
    for suf in ("ing", "ed"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[:-len(suf)]
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeioulsz":
                w = w[:-1]          # running -> run
            break
    if len(w) >= 4 and w.endswith("e"):
        w = w[:-1]                  # bake / baking / baked -> bak
    return w


def words_of(text):
    out = []
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if w in STOP_WORDS:
            continue
        out.append(stem(w))
    return out


_POS_CACHE = {}


def _positions(word, dims):
    key = (word, dims)
    hit = _POS_CACHE.get(key)
    if hit is None:
        h = hashlib.sha256(word.encode("utf-8")).digest()
        hit = tuple((int.from_bytes(h[4 * k:4 * k + 4], "little") % dims,
                     1.0 if (h[16] >> k) & 1 else -1.0) for k in range(3))
        if len(_POS_CACHE) < 200000:
            _POS_CACHE[key] = hit
    return hit


def embed(text, dims):
    v = [0.0] * dims
    for w in words_of(text):
        for pos, sign in _positions(w, dims):
            v[pos] += sign
    norm = math.sqrt(sum(x * x for x in v))
    if norm == 0.0:
        return [f32(1.0 / math.sqrt(dims))] * dims
    return [f32(x / norm) if x else 0.0 for x in v]


# ---------------------------------------------------------------- filters

OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists")


def _scalar(x):
    return isinstance(x, (str, bool)) or is_num(x)


def validate_filter(f, where="filter"):
    if not isinstance(f, dict):
        raise ApiError(400, f"{where} must be an object")
    for key, val in f.items():
        if key in ("$and", "$or"):
            if not isinstance(val, list) or not val:
                raise ApiError(400, f"{key} must be a non-empty array of "
                               "filter objects")
            for sub in val:
                validate_filter(sub, key)
        elif key.startswith("$"):
            raise ApiError(400, f"unknown top-level operator {key!r} in "
                           "filter")
        elif isinstance(val, dict):
            if not val:
                raise ApiError(400, f"empty condition for field {key!r}")
            for op, arg in val.items():
                if op not in OPS:
                    raise ApiError(400, f"unknown operator {op!r} for field "
                                   f"{key!r}")
                if op in ("$eq", "$ne"):
                    if not _scalar(arg):
                        raise ApiError(400, f"{op} needs a number, string or "
                                       f"boolean (field {key!r})")
                elif op in ("$gt", "$gte", "$lt", "$lte"):
                    if not is_num(arg):
                        raise ApiError(400, f"{op} needs a number (field "
                                       f"{key!r})")
                elif op in ("$in", "$nin"):
                    if not isinstance(arg, list) or \
                            not all(_scalar(a) for a in arg):
                        raise ApiError(400, f"{op} needs an array of numbers, "
                                       f"strings or booleans (field {key!r})")
                elif op == "$exists":
                    if not isinstance(arg, bool):
                        raise ApiError(400, f"$exists needs a boolean (field "
                                       f"{key!r})")
        elif _scalar(val):
            pass
        else:
            raise ApiError(400, f"invalid value for field {key!r}: expected "
                           "a number, string, boolean or operator object")


def _eq(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return a == b


def _cond(md, field, op, arg):
    present = field in md
    v = md.get(field)
    items = v if isinstance(v, list) else [v]
    if op == "$exists":
        return present == arg
    if op == "$eq":
        return present and any(_eq(x, arg) for x in items)
    if op == "$ne":
        return not present or not any(_eq(x, arg) for x in items)
    if op == "$in":
        return present and any(_eq(x, a) for x in items for a in arg)
    if op == "$nin":
        return not present or not any(_eq(x, a) for x in items for a in arg)
    if not present or not is_num(v):
        return False
    if op == "$gt":
        return v > arg
    if op == "$gte":
        return v >= arg
    if op == "$lt":
        return v < arg
    return v <= arg                     # $lte


def match_filter(md, f):
    for key, val in f.items():
        if key == "$and":
            if not all(match_filter(md, s) for s in val):
                return False
        elif key == "$or":
            if not any(match_filter(md, s) for s in val):
                return False
        elif isinstance(val, dict):
            if not all(_cond(md, key, op, arg) for op, arg in val.items()):
                return False
        elif not _cond(md, key, "$eq", val):
            return False
    return True


# ---------------------------------------------------------------- state


class State:
    def __init__(self, args):
        self.args = args
        self.dims = args.dims
        self.lock = threading.RLock()
        self.vectors = {}       # namespace -> id -> {"values", "metadata"}
        self.faults = []
        self.req_counter = 0
        self.generation = 0     # bumped by reset: connections count anew
        self.reset_counters()
        if args.state and os.path.exists(args.state):
            with open(args.state, "rb") as fh:
                saved = loads(fh.read())
            if saved.get("dimension", self.dims) != self.dims:
                sys.exit(f"{args.state} holds vectors of dimension "
                         f"{saved['dimension']}, not --dims {self.dims}")
            for ns, recs in saved.get("namespaces", {}).items():
                self.vectors[ns] = {
                    rid: {"values": r["values"],
                          "norm": math.sqrt(sum(x * x for x in r["values"])),
                          "metadata": r.get("metadata")}
                    for rid, r in recs.items()}

    def reset_counters(self):
        self.generation += 1
        self.requests = {}
        self.statuses = {}
        self.requests_total = 0
        self.embedding_inputs = 0
        self.embedding_requests = 0
        self.chat_requests = 0
        self.connections = 0
        self.connections_total = 0
        self.faults_served = 0
        self.last = {}
        self.last_any = None
        self.log = []

    def save(self):
        if not self.args.state:
            return
        data = {"dimension": self.dims, "namespaces": {
            ns: {rid: {"values": r["values"], "metadata": r["metadata"]}
                 for rid, r in recs.items()}
            for ns, recs in self.vectors.items() if recs}}
        tmp = self.args.state + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(dumps(data))
        os.replace(tmp, self.args.state)


# ---------------------------------------------------------------- OpenAI

EMBED_MODELS = {"text-embedding-ada-002": 1536,
                "text-embedding-3-small": 1536,
                "text-embedding-3-large": 3072}
EMBED_FIELDS = {"model", "input", "encoding_format", "dimensions", "user"}
CHAT_FIELDS = {"model", "messages", "response_format", "temperature",
               "max_tokens", "max_completion_tokens", "top_p", "n", "stop",
               "seed", "user", "presence_penalty", "frequency_penalty",
               "logprobs", "top_logprobs", "stream", "store", "metadata",
               "logit_bias", "service_tier", "reasoning_effort",
               "parallel_tool_calls", "tools", "tool_choice", "modalities",
               "prediction", "stream_options", "verbosity",
               "prompt_cache_key", "safety_identifier"}
ROLES = {"system", "developer", "user", "assistant"}


def _unknown_fields(body, allowed):
    for k in body:
        if k not in allowed:
            raise ApiError(400, f"Unrecognized request argument supplied: {k}")


def openai_embeddings(st, body):
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid type for request body: expected an "
                       "object.")
    _unknown_fields(body, EMBED_FIELDS)
    model = body.get("model")
    if model is None:
        raise ApiError(400, "you must provide a model parameter")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "Invalid type for 'model': expected a string.",
                       param="model")
    if "input" not in body:
        raise ApiError(400, "'input' is a required property", param="input")
    inp = body["input"]
    if isinstance(inp, str):
        texts = [inp]
    elif isinstance(inp, list):
        if not inp:
            raise ApiError(400, "'$.input' is invalid. Please check the API "
                           "reference: https://platform.openai.com/docs/"
                           "api-reference.", param="input")
        if any(not isinstance(x, str) for x in inp):
            raise ApiError(400, "token arrays are not supported by this test "
                           "server; send strings", param="input")
        if len(inp) > 2048:
            raise ApiError(400, f"'$.input' is too long: {len(inp)} items, "
                           "the maximum is 2048.", param="input")
        texts = inp
    else:
        raise ApiError(400, "'$.input' is invalid. Please check the API "
                       "reference: https://platform.openai.com/docs/"
                       "api-reference.", param="input")
    if any(t == "" for t in texts):
        raise ApiError(400, "'$.input' is invalid: empty strings are not "
                       "allowed.", param="input")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise ApiError(400, f"Invalid value for 'encoding_format': {fmt!r}; "
                       "expected 'float' or 'base64'.",
                       param="encoding_format")
    if "user" in body and not isinstance(body["user"], str):
        raise ApiError(400, "Invalid type for 'user': expected a string.",
                       param="user")
    native = EMBED_MODELS.get(model, st.dims)
    dims = native
    if "dimensions" in body:
        d = body["dimensions"]
        if not model.startswith("text-embedding-3-"):
            raise ApiError(400, "This model does not support specifying "
                           "dimensions.", param="dimensions")
        if not is_int(d) or d < 1 or d > native:
            raise ApiError(400, f"Invalid value for 'dimensions' = {d}. Must "
                           f"be between 1 and {native}.",
                           param="dimensions")
        dims = d
    counts = [tokens(t) for t in texts]
    for n in counts:
        if n > 8192:
            raise ApiError(400, "This model's maximum context length is 8192 "
                           f"tokens, however you requested {n} tokens ({n} "
                           "in your prompt; 0 for the completion). Please "
                           "reduce your prompt; or completion length.")
    total = sum(counts)
    if total > 300000:
        raise ApiError(400, f"Requested {total} tokens, max 300000 tokens "
                       "per request", param="input")
    data = []
    for i, t in enumerate(texts):
        v = embed(t, dims)
        if fmt == "base64":
            e = base64.b64encode(struct.pack(f"<{dims}f", *v)).decode()
        else:
            e = v
        data.append({"object": "embedding", "index": i, "embedding": e})
    data.reverse()              # clients must match on index
    with st.lock:
        st.embedding_requests += 1
        st.embedding_inputs += len(texts)
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": total, "total_tokens": total}}


def _content_text(c, idx):
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        parts = []
        for p in c:
            if not isinstance(p, dict) or p.get("type") != "text" or \
                    not isinstance(p.get("text"), str):
                raise ApiError(400, f"Invalid content part in "
                               f"messages[{idx}]: only text parts are "
                               "supported.", param=f"messages.[{idx}].content")
            parts.append(p["text"])
        return "\n".join(parts)
    raise ApiError(400, f"Invalid type for 'messages[{idx}].content': "
                   "expected a string.", param=f"messages.[{idx}].content")


def _schema_value(schema, framing, reasoning, depth=0):
    if not isinstance(schema, dict) or depth > 8:
        return framing
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if "enum" in schema and isinstance(schema["enum"], list) \
            and schema["enum"]:
        return schema["enum"][0]
    if t == "object" or "properties" in schema:
        out = {}
        for name, sub in (schema.get("properties") or {}).items():
            if name == "framing":
                out[name] = framing
            elif name == "reasoning":
                out[name] = reasoning
            else:
                out[name] = _schema_value(sub, framing, reasoning, depth + 1)
        return out
    if t == "array":
        return [_schema_value(schema.get("items"), framing, reasoning,
                              depth + 1)]
    if t == "integer":
        return 0
    if t == "number":
        return 0.0
    if t == "boolean":
        return False
    return framing


def openai_chat(st, body, fault_kind=None):
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid type for request body: expected an "
                       "object.")
    _unknown_fields(body, CHAT_FIELDS)
    model = body.get("model")
    if model is None:
        raise ApiError(400, "you must provide a model parameter")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "Invalid type for 'model': expected a string.",
                       param="model")
    msgs = body.get("messages")
    if msgs is None:
        raise ApiError(400, "Missing required parameter: 'messages'.",
                       param="messages")
    if not isinstance(msgs, list) or not msgs:
        raise ApiError(400, "Invalid 'messages': empty array. Expected an "
                       "array with minimum length 1, but got an empty array "
                       "instead.", param="messages")
    texts = []
    last_user = ""
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise ApiError(400, f"Invalid type for 'messages[{i}]': expected "
                           "an object.", param=f"messages.[{i}]")
        role = m.get("role")
        if role not in ROLES:
            raise ApiError(400, f"Invalid value: {role!r}. Supported values "
                           "are: 'system', 'developer', 'user' and "
                           "'assistant'.", param=f"messages.[{i}].role")
        if "content" not in m:
            raise ApiError(400, f"Missing required parameter: "
                           f"'messages.[{i}].content'.",
                           param=f"messages.[{i}].content")
        text = _content_text(m["content"], i)
        texts.append(text)
        if role == "user":
            last_user = text
    if body.get("stream"):
        raise ApiError(400, "stream=true is not supported by this test "
                       "server", param="stream")
    rf = body.get("response_format")
    rtype = "text"
    schema = None
    if rf is not None:
        if not isinstance(rf, dict) or \
                rf.get("type") not in ("text", "json_object", "json_schema"):
            raise ApiError(400, "Invalid value for 'response_format.type': "
                           "expected one of 'text', 'json_object' or "
                           "'json_schema'.", param="response_format.type")
        rtype = rf["type"]
        if rtype == "json_schema":
            js = rf.get("json_schema")
            if not isinstance(js, dict) or not isinstance(js.get("name"), str):
                raise ApiError(400, "Missing required parameter: "
                               "'response_format.json_schema'.",
                               param="response_format.json_schema")
            schema = js.get("schema")
        if rtype == "json_object" and \
                not any("json" in t.lower() for t in texts):
            raise ApiError(400, "'messages' must contain the word 'json' in "
                           "some form, to use 'response_format' of type "
                           "'json_object'.", param="messages")
    if "temperature" in body:
        t = body["temperature"]
        if not is_num(t) or t < 0 or t > 2:
            raise ApiError(400, f"Invalid 'temperature': {t}. Expected a "
                           "value between 0 and 2.", param="temperature")
    limit = None
    for key in ("max_tokens", "max_completion_tokens"):
        if key in body and body[key] is not None:
            v = body[key]
            if not is_int(v) or v < 1:
                raise ApiError(400, f"Invalid '{key}': integer below minimum "
                               "value. Expected a value >= 1.", param=key)
            limit = v if limit is None else min(limit, v)
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]*", last_user)
    first8 = " ".join(words[:8]) or "this brief"
    terms = []
    for w in words_of(last_user):
        if w not in terms:
            terms.append(w)
    framing = f"Frame {first8} for this audience."
    reasoning = (f"The request has {len(words)} words; key terms: "
                 f"{', '.join(terms[:6]) or 'none'}.")
    if rtype == "json_object":
        content = json.dumps({"framing": framing, "reasoning": reasoning})
    elif rtype == "json_schema":
        content = json.dumps(_schema_value(schema or {"properties": {
            "framing": {}, "reasoning": {}}}, framing, reasoning))
    else:
        content = f"{framing} {reasoning}"
    finish = "stop"
    refusal = None
    if fault_kind == "refusal":
        content = None
        refusal = "I'm sorry, I can't help with that."
    elif fault_kind == "content_filter":
        content = None
        finish = "content_filter"
    elif limit is not None and tokens(content) > limit:
        content = content.encode("utf-8")[:limit * 4].decode("utf-8",
                                                            "ignore")
        finish = "length"
    prompt_tokens = sum(tokens(t) for t in texts)
    completion_tokens = tokens(content or refusal or "")
    with st.lock:
        st.chat_requests += 1
        n = st.chat_requests
    return {"id": f"chatcmpl-fake{n:06d}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0,
                         "message": {"role": "assistant", "content": content,
                                     "refusal": refusal},
                         "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": prompt_tokens,
                      "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


OPENAI_FAULT = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key",
          "Incorrect API key provided."),
    403: ("request_forbidden", "unsupported_country_region_territory",
          "Country, region, or territory not supported"),
    404: ("invalid_request_error", None, "The model does not exist or you do "
          "not have access to it."),
    409: ("invalid_request_error", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests"
          " (injected by the test server). Please try again later."),
    500: ("server_error", None, "The server had an error while processing "
          "your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please "
          "try again later"),
    504: ("server_error", None, "Gateway timeout."),
}


def openai_error_body(status, message=None, param=None, code=None,
                      type_=None):
    dtype, dcode, dmsg = OPENAI_FAULT.get(
        status, ("server_error" if status >= 500 else
                 "invalid_request_error", None, f"HTTP {status}"))
    return {"error": {"message": message or dmsg,
                      "type": type_ or dtype, "param": param,
                      "code": code if code is not None else dcode}}


# ---------------------------------------------------------------- Pinecone

GRPC = {400: 3, 401: 16, 402: 9, 403: 7, 404: 5, 405: 12, 409: 6, 412: 9,
        413: 3, 422: 3, 429: 8, 500: 13, 501: 12, 502: 14, 503: 14, 504: 4}
PINECONE_MSG = {
    400: "Bad request", 402: "Payment required",
    403: "Forbidden", 404: "Not found",
    409: "Conflict", 412: "Precondition failed",
    422: "Unprocessable entity",
    429: "Request failed. You've reached the max request rate for this "
         "namespace (injected by the test server).",
    500: "Internal error", 502: "Bad gateway",
    503: "Service unavailable", 504: "Deadline exceeded"}


def pinecone_error_body(status, message=None):
    return {"code": GRPC.get(status, 2),
            "message": message or PINECONE_MSG.get(status, f"HTTP {status}"),
            "details": []}


def _check_fields(body, allowed):
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid request body: expected a JSON object")
    for k in body:
        if k not in allowed:
            raise ApiError(400, f"Invalid request body: unknown field `{k}`")


def _ns(body_ns):
    if body_ns is None:
        return "", ""
    if not isinstance(body_ns, str):
        raise ApiError(400, "namespace must be a string")
    return ("" if body_ns == "__default__" else body_ns), body_ns


def _values(st, vals, what):
    if not isinstance(vals, list) or not all(is_num(x) for x in vals):
        raise ApiError(400, f"{what}: values must be an array of numbers")
    if len(vals) != st.dims:
        raise ApiError(400, f"Vector dimension {len(vals)} does not match the"
                       f" dimension of the index {st.dims}")
    if not any(abs(x) >= 1e-8 for x in vals):
        raise ApiError(400, f"{what}: Dense vectors must contain at least one"
                       " non-zero value")
    return [f32(float(x)) for x in vals]


def _metadata(md, what):
    if not isinstance(md, dict):
        raise ApiError(400, f"{what}: metadata must be an object")
    for k, v in md.items():
        if k == "" or k.startswith("$"):
            raise ApiError(400, f"{what}: metadata key {k!r} is not allowed "
                           "(empty or starting with '$')")
        if v is None:
            raise ApiError(400, f"{what}: metadata value for {k!r} is null; "
                           "null values are not supported")
        if isinstance(v, list):
            if not all(isinstance(x, str) for x in v):
                raise ApiError(400, f"{what}: metadata list {k!r} must "
                               "contain only strings")
        elif not (isinstance(v, (str, bool)) or is_num(v)):
            raise ApiError(400, f"{what}: metadata value for {k!r} must be a "
                           "string, number, boolean or list of strings")
    size = len(dumps(md))
    if size > 40960:
        raise ApiError(400, f"{what}: Metadata size is {size} bytes, which "
                       "exceeds the limit of 40960 bytes per vector")
    return md


def _record_id(rid, what):
    if not isinstance(rid, str) or not 1 <= len(rid) <= 512:
        raise ApiError(400, f"{what}: id must be a string of 1 to 512 "
                       "characters")
    if not rid.isascii():
        raise ApiError(400, f"{what}: id must contain only ASCII characters")
    return rid


def pc_upsert(st, body, raw_len):
    if raw_len > 2 * 1024 * 1024:
        raise ApiError(400, f"Request size {raw_len / 1048576:.1f}MB exceeds "
                       "the maximum supported size of 2MB")
    _check_fields(body, {"vectors", "namespace"})
    ns, _ = _ns(body.get("namespace"))
    vecs = body.get("vectors")
    if not isinstance(vecs, list) or not 1 <= len(vecs) <= 1000:
        raise ApiError(400, "Invalid request: vectors must be an array of 1 "
                       "to 1000 vectors")
    recs = []
    for i, v in enumerate(vecs):
        what = f"vectors[{i}]"
        _check_fields(v, {"id", "values", "sparseValues", "metadata"})
        rid = _record_id(v.get("id"), what)
        if "values" not in v:
            raise ApiError(400, f"{what}: a dense index needs `values`")
        vals = _values(st, v["values"], what)
        md = v.get("metadata")
        if md is not None:
            md = _metadata(md, what)
        recs.append((rid, vals, md))
    with st.lock:
        space = st.vectors.setdefault(ns, {})
        for rid, vals, md in recs:
            space[rid] = {"values": vals,
                          "norm": math.sqrt(sum(x * x for x in vals)),
                          "metadata": md}
        st.save()
    return {"upsertedCount": len(recs)}


def _dot(q, qnz, v):
    if qnz is not None:
        return sum(v[i] * x for i, x in qnz)
    return sum(map(float.__mul__, q, v))


def pc_query(st, body):
    _check_fields(body, {"topK", "vector", "id", "filter", "includeValues",
                         "includeMetadata", "namespace", "sparseVector"})
    ns, ns_name = _ns(body.get("namespace"))
    top_k = body.get("topK")
    if not is_int(top_k) or not 1 <= top_k <= 10000:
        raise ApiError(400, "topK must be an integer from 1 to 10000")
    if "sparseVector" in body:
        raise ApiError(400, "sparseVector is not supported on a dense index "
                       "in this test server")
    if ("vector" in body) == ("id" in body):
        raise ApiError(400, "exactly one of `vector` and `id` must be given")
    for key in ("includeValues", "includeMetadata"):
        if key in body and not isinstance(body[key], bool):
            raise ApiError(400, f"{key} must be a boolean")
    if top_k > 1000 and (body.get("includeValues") or
                         body.get("includeMetadata")):
        raise ApiError(400, "topK must be at most 1000 when includeValues or "
                       "includeMetadata is true")
    flt = body.get("filter")
    if flt is not None:
        validate_filter(flt)
    with st.lock:
        space = dict(st.vectors.get(ns, {}))
    if "vector" in body:
        q = _values(st, body["vector"], "vector")
    else:
        rec = space.get(_record_id(body["id"], "id"))
        if rec is None:
            return {"matches": [], "namespace": ns_name,
                    "usage": {"readUnits": 1}}
        q = rec["values"]
    qn = math.sqrt(sum(x * x for x in q))
    nz = [(i, x) for i, x in enumerate(q) if x != 0.0]
    qnz = nz if len(nz) * 4 < len(q) else None
    scored = []
    for rid, rec in space.items():
        if flt and not match_filter(rec["metadata"] or {}, flt):
            continue
        s = _dot(q, qnz, rec["values"]) / (qn * rec["norm"])
        scored.append((-s, rid, rec))
    scored.sort(key=lambda t: (t[0], t[1]))
    matches = []
    for negs, rid, rec in scored[:top_k]:
        m = {"id": rid, "score": f32(max(-1.0, min(1.0, -negs)))}
        if body.get("includeValues"):
            m["values"] = rec["values"]
        if body.get("includeMetadata") and rec["metadata"] is not None:
            m["metadata"] = rec["metadata"]
        matches.append(m)
    out = {"matches": matches, "namespace": ns_name,
           "usage": {"readUnits": max(1, -(-len(space) // 1000))}}
    if len(dumps(out)) > 4 * 1024 * 1024:
        raise ApiError(400, "Response size exceeds the maximum of 4MB; "
                       "lower topK or leave out values or metadata")
    return out


def pc_fetch(st, query):
    unknown = set(query) - {"ids", "namespace"}
    if unknown:
        raise ApiError(400, f"unknown query parameter {sorted(unknown)[0]!r}")
    ids = query.get("ids", [])
    if not 1 <= len(ids) <= 1000:
        raise ApiError(400, "fetch needs 1 to 1000 `ids` parameters")
    ns, ns_name = _ns(query.get("namespace", [None])[-1])
    with st.lock:
        space = st.vectors.get(ns, {})
        out = {}
        for rid in ids:
            rec = space.get(rid)
            if rec is not None:
                r = {"id": rid, "values": rec["values"]}
                if rec["metadata"] is not None:
                    r["metadata"] = rec["metadata"]
                out[rid] = r
    return {"vectors": out, "namespace": ns_name,
            "usage": {"readUnits": 1}}


def pc_delete(st, body):
    _check_fields(body, {"ids", "deleteAll", "filter", "namespace"})
    ns, _ = _ns(body.get("namespace"))
    modes = [k for k in ("ids", "filter") if k in body]
    if body.get("deleteAll") is True:
        modes.append("deleteAll")
    elif "deleteAll" in body and body["deleteAll"] is not False:
        raise ApiError(400, "deleteAll must be a boolean")
    if len(modes) != 1:
        raise ApiError(400, "exactly one of `ids`, `deleteAll` and `filter` "
                       "must be given")
    if "ids" in body:
        ids = body["ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= 1000 or \
                not all(isinstance(x, str) for x in ids):
            raise ApiError(400, "ids must be an array of 1 to 1000 strings")
    if "filter" in body:
        validate_filter(body["filter"])
    with st.lock:
        space = st.vectors.get(ns, {})
        if modes[0] == "deleteAll":
            space.clear()
        elif modes[0] == "ids":
            for rid in body["ids"]:
                space.pop(rid, None)
        else:
            for rid in [r for r, rec in space.items()
                        if match_filter(rec["metadata"] or {},
                                        body["filter"])]:
                del space[rid]
        if not space:
            st.vectors.pop(ns, None)
        st.save()
    return {}


def pc_update(st, body, api_version):
    _check_fields(body, {"id", "values", "sparseValues", "setMetadata",
                         "namespace"})
    ns, _ = _ns(body.get("namespace"))
    rid = _record_id(body.get("id"), "id")
    vals = _values(st, body["values"], "values") if "values" in body else None
    md = _metadata(body["setMetadata"], "setMetadata") \
        if "setMetadata" in body else None
    with st.lock:
        rec = st.vectors.get(ns, {}).get(rid)
        if rec is not None:
            if vals is not None:
                rec["values"] = vals
                rec["norm"] = math.sqrt(sum(x * x for x in vals))
            if md is not None:
                merged = dict(rec["metadata"] or {})
                merged.update(md)
                rec["metadata"] = _metadata(merged, "setMetadata")
            st.save()
    if api_version >= "2025-10":
        return {"matchedRecords": 0 if rec is None else 1}
    return {}


def pc_stats(st, body):
    _check_fields(body, {"filter"})
    flt = body.get("filter")
    if flt is not None:
        validate_filter(flt)
    namespaces = {}
    total = 0
    with st.lock:
        for ns, space in sorted(st.vectors.items()):
            n = sum(1 for rec in space.values()
                    if not flt or match_filter(rec["metadata"] or {}, flt))
            if space:
                namespaces[ns] = {"vectorCount": n}
                total += n
    return {"namespaces": namespaces, "dimension": st.dims,
            "indexFullness": 0.0, "totalVectorCount": total,
            "metric": "cosine", "vectorType": "dense"}


def pc_list(st, query):
    unknown = set(query) - {"prefix", "limit", "paginationToken", "namespace"}
    if unknown:
        raise ApiError(400, f"unknown query parameter {sorted(unknown)[0]!r}")
    prefix = query.get("prefix", [""])[-1]
    try:
        limit = int(query.get("limit", ["100"])[-1])
    except ValueError:
        raise ApiError(400, "limit must be an integer") from None
    if not 1 <= limit <= 100:
        raise ApiError(400, "limit must be between 1 and 100")
    after = None
    token = query.get("paginationToken", [""])[-1]
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(
                token + "=" * (-len(token) % 4)))["after"]
            assert isinstance(after, str)
        except Exception:
            raise ApiError(400, "invalid paginationToken") from None
    ns, ns_name = _ns(query.get("namespace", [None])[-1])
    with st.lock:
        ids = sorted(r for r in st.vectors.get(ns, {}) if r.startswith(prefix)
                     and (after is None or r > after))
    page = ids[:limit]
    out = {"vectors": [{"id": r} for r in page]}
    if len(ids) > limit:
        out["pagination"] = {"next": base64.urlsafe_b64encode(json.dumps(
            {"after": page[-1]}).encode()).decode().rstrip("=")}
    out["namespace"] = ns_name
    out["usage"] = {"readUnits": 1}
    return out


# ---------------------------------------------------------------- control

FAULT_KINDS = {"status", "reset", "truncate", "nonjson", "delay", "plain401",
               "refusal", "content_filter"}


def parse_fault(f):
    if not isinstance(f, dict):
        raise ApiError(400, "a fault is a JSON object")
    allowed = {"path", "kind", "status", "count", "retry_after",
               "retry_after_ms", "delay_ms", "body", "headers", "message"}
    for k in f:
        if k not in allowed:
            raise ApiError(400, f"unknown fault field {k!r}")
    path = f.get("path", "*")
    if not isinstance(path, str) or not (path == "*" or path.startswith("/")):
        raise ApiError(400, "path must be '*' or start with '/'")
    kind = f.get("kind", "status")
    if kind not in FAULT_KINDS:
        raise ApiError(400, f"kind must be one of {sorted(FAULT_KINDS)}")
    status = f.get("status", {"status": 500, "plain401": 401,
                              "nonjson": 200}.get(kind))
    if status is not None and (not is_int(status) or not 100 <= status <= 599):
        raise ApiError(400, "status must be an HTTP status code")
    count = f.get("count", 1)
    if not is_int(count) or (count < 1 and count != -1):
        raise ApiError(400, "count must be a positive integer or -1")
    for k in ("retry_after", "retry_after_ms", "delay_ms"):
        if k in f and (not is_num(f[k]) or f[k] < 0):
            raise ApiError(400, f"{k} must be a non-negative number")
    if "body" in f and not isinstance(f["body"], str):
        raise ApiError(400, "body must be a string")
    if "headers" in f and (not isinstance(f["headers"], dict) or not all(
            isinstance(v, str) for v in f["headers"].values())):
        raise ApiError(400, "headers must be an object of strings")
    out = dict(f)
    out.update(path=path, kind=kind, status=status, count=count)
    return out


# ---------------------------------------------------------------- server


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-remote/1"
    timeout = 300               # an idle keep-alive connection is closed

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        self.st = self.server.state
        self.counted = 0        # the generation this connection counted in
        with self.st.lock:
            self.st.connections_total += 1

    def log_message(self, fmt, *args):      # quiet: we log per request
        pass

    def log_error(self, fmt, *args):
        sys.stderr.write("error: " + (fmt % args) + "\n")

    # one dispatcher for every method
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # ------------------------------------------------------------ I/O

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ApiError(413, "request body too large")
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json", headers=None,
             truncate=False):
        if isinstance(body, (dict, list)):
            body = dumps(body)
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.status = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", self.request_id)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if truncate:
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[:len(body) // 2] if truncate else body)
        self.wfile.flush()

    def api_error(self, api, e, headers=None):
        if api == "openai":
            self.send(e.status, openai_error_body(
                e.status, e.message, e.param, e.code, e.type), headers=headers)
        elif api == "pinecone" and e.status == 401:
            self.send(401, "Unauthorized", "text/plain", headers)
        elif api == "pinecone":
            self.send(e.status, pinecone_error_body(e.status, e.message),
                      headers=headers)
        else:
            self.send(e.status, {"error": e.message}, headers=headers)

    # ------------------------------------------------------------ dispatch

    def dispatch(self):
        t0 = time.monotonic()
        st = self.st
        with st.lock:
            st.req_counter += 1
            self.request_id = f"req_{st.req_counter}"
        self.status = 0
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        control = path.startswith("/_control/")
        api = ("control" if control else
               "openai" if path.startswith("/v1/") else "pinecone")
        try:
            try:
                raw = self.read_body()
            except ApiError:
                self.close_connection = True
                raise
            except (ValueError, OSError):
                self.close_connection = True
                raise ApiError(400, "malformed request body") from None
            if control:
                self.control(path, query, raw)
            else:
                self.api(api, path, query, raw)
        except ApiError as e:
            self.api_error(api, e)
        except (ConnectionError, socket.timeout, BrokenPipeError):
            self.close_connection = True
            self.status = self.status or "aborted"
        except Exception as e:  # never die on a request
            import traceback
            traceback.print_exc(file=sys.stderr)
            try:
                self.api_error(api, ApiError(500, f"internal error: {e}"))
            except Exception:
                self.close_connection = True
        ms = (time.monotonic() - t0) * 1000
        sys.stderr.write(f"{self.command} {path} {self.status} {ms:.1f}\n")
        sys.stderr.flush()

    def record(self, path, query, raw, body):
        st = self.st
        names = list(self.headers.keys())
        hdrs = {}
        secrets = {}
        oa_key = st.args.openai_key
        pc_key = st.args.pinecone_key
        for name in names:
            low = name.lower()
            if low in ("authorization", "api-key"):
                hdrs[low] = "<redacted>"
            else:
                v = self.headers.get_all(name)
                hdrs[low] = ", ".join(v) if len(v) > 1 else v[0]
        for low, key, expect in (
                ("authorization", oa_key, f"Bearer {oa_key}"),
                ("api-key", pc_key, pc_key)):
            v = self.headers.get(low)
            secrets[low] = {"present": v is not None,
                            "matches": (None if not key else v == expect)}
        entry = {"id": self.request_id, "time": time.time(),
                 "method": self.command, "path": path,
                 "target": self.path, "http_version": self.request_version,
                 "query": query, "header_names": names, "headers": hdrs,
                 "secrets": secrets,
                 # the secret of this path's own API matched its key
                 "key_ok": secrets["authorization" if path.startswith("/v1/")
                                   else "api-key"]["matches"],
                 "body_length": len(raw),
                 "body": body, "status": None}
        if body is None and raw:
            entry["body_raw"] = raw[:4096].decode("utf-8", "replace")
        with st.lock:
            st.requests_total += 1
            st.requests[path] = st.requests.get(path, 0) + 1
            st.last[path] = entry
            st.last_any = entry
            st.log.append(entry)
            if len(st.log) > 2000:
                del st.log[:len(st.log) - 2000]
            if self.counted != st.generation:
                self.counted = st.generation
                st.connections += 1
        return entry

    def take_fault(self, path):
        st = self.st
        with st.lock:
            for i, f in enumerate(st.faults):
                if f["path"] == path or f["path"] == "*":
                    if f["count"] > 0:
                        f["count"] -= 1
                        if f["count"] == 0:
                            del st.faults[i]
                    st.faults_served += 1
                    return dict(f)
        return None

    def api(self, api, path, query, raw):
        st = self.st
        body = None
        parse_error = None
        if raw:
            try:
                body = loads(raw)
            except (ValueError, UnicodeDecodeError) as e:
                parse_error = e
        entry = self.record(path, query, raw, body)
        try:
            try:
                self.api_inner(api, path, query, raw, body, parse_error)
            except ApiError as e:
                self.api_error(api, e)
        finally:
            with st.lock:
                entry["status"] = self.status
                key = str(self.status)
                st.statuses[key] = st.statuses.get(key, 0) + 1

    def api_inner(self, api, path, query, raw, body, parse_error):
        st = self.st
        fault = self.take_fault(path)
        fheaders = {}
        if fault:
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            if "retry_after" in fault:
                ra = fault["retry_after"]
                fheaders["Retry-After"] = str(int(ra)) if ra == int(ra) \
                    else str(ra)
            if "retry_after_ms" in fault:
                fheaders["retry-after-ms"] = repr(float(
                    fault["retry_after_ms"]))
            fheaders.update(fault.get("headers") or {})
            kind = fault["kind"]
            status = fault["status"]
            if kind == "reset":
                self.status = "reset"
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                return
            if kind == "plain401":
                self.send(401, fault.get("body", "Unauthorized"),
                          "text/plain", fheaders)
                return
            if kind == "nonjson":
                self.send(status, fault.get("body", "<html>oops</html>"),
                          "application/json", fheaders)
                return
            if kind == "status":
                if "body" in fault:
                    b = fault["body"]
                    try:
                        json.loads(b)
                        ctype = "application/json"
                    except ValueError:
                        ctype = "text/plain"
                    self.send(status, b, ctype, fheaders)
                elif api == "openai":
                    self.send(status, openai_error_body(
                        status, fault.get("message")), headers=fheaders)
                elif status == 401:
                    self.send(401, "Unauthorized", "text/plain", fheaders)
                else:
                    self.send(status, pinecone_error_body(
                        status, fault.get("message")), headers=fheaders)
                return
            if kind == "truncate" and "body" in fault:
                self.send(status or 200, fault["body"], headers=fheaders,
                          truncate=True)
                return
            # delay, truncate, refusal, content_filter: answer normally
        truncate = bool(fault and fault["kind"] == "truncate")
        fkind = fault["kind"] if fault else None

        if api == "openai":
            key = st.args.openai_key
            if key and self.headers.get("Authorization") != f"Bearer {key}":
                raise ApiError(401, "Incorrect API key provided.",
                               code="invalid_api_key")
        else:
            key = st.args.pinecone_key
            if key and self.headers.get("Api-Key") != key:
                raise ApiError(401, "Unauthorized")
        if parse_error is not None:
            if api == "openai":
                raise ApiError(400, "We could not parse the JSON body of your "
                               "request. (HINT: This likely means you aren't "
                               "using your HTTP library correctly. The OpenAI "
                               "API expects a JSON payload, but what was sent "
                               "was not valid JSON. If you have trouble "
                               "figuring out how to fix this, please contact "
                               "us through our help center at "
                               "help.openai.com.)")
            raise ApiError(400, f"Invalid request body: {parse_error}")

        method = self.command
        routes = {
            ("POST", "/v1/embeddings"): lambda: openai_embeddings(st, body),
            ("POST", "/v1/chat/completions"):
                lambda: openai_chat(st, body, fkind),
            ("POST", "/vectors/upsert"): lambda: pc_upsert(st, body, len(raw)),
            ("POST", "/query"): lambda: pc_query(st, body),
            ("GET", "/vectors/fetch"): lambda: pc_fetch(st, query),
            ("POST", "/vectors/delete"): lambda: pc_delete(st, body),
            ("POST", "/vectors/update"): lambda: pc_update(
                st, body, self.headers.get("X-Pinecone-Api-Version", "")),
            ("POST", "/describe_index_stats"):
                lambda: pc_stats(st, {} if body is None else body),
            ("GET", "/describe_index_stats"): lambda: pc_stats(st, {}),
            ("GET", "/vectors/list"): lambda: pc_list(st, query),
        }
        route = routes.get((method, path))
        if route is None:
            if any(p == path for (_, p) in routes):
                raise ApiError(405, f"Method {method} not allowed on {path}")
            if api == "openai":
                raise ApiError(404, f"Invalid URL ({method} {path})")
            raise ApiError(404, "Not Found")
        if method == "POST" and body is None and \
                path != "/describe_index_stats":
            raise ApiError(400, "missing JSON request body")
        reply = route()
        headers = dict(fheaders)
        if api == "openai":
            headers.update({
                "openai-processing-ms": "1",
                "x-ratelimit-limit-requests": "10000",
                "x-ratelimit-remaining-requests": "9999",
                "x-ratelimit-reset-requests": "6ms",
                "x-ratelimit-limit-tokens": "10000000",
                "x-ratelimit-remaining-tokens": "9999000",
                "x-ratelimit-reset-tokens": "0s"})
        self.send(200, reply, headers=headers, truncate=truncate)

    def control(self, path, query, raw):
        st = self.st
        try:
            body = loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "control body must be JSON") from None
        method = self.command
        if path == "/_control/stats" and method == "GET":
            with st.lock:
                out = {"requests": dict(st.requests),
                       "requests_total": st.requests_total,
                       "statuses": dict(st.statuses),
                       "embedding_inputs": st.embedding_inputs,
                       "embedding_requests": st.embedding_requests,
                       "chat_requests": st.chat_requests,
                       "connections": st.connections,
                       "connections_total": st.connections_total,
                       "faults_served": st.faults_served,
                       "faults_pending": len(st.faults),
                       "vectors": {ns: len(s) for ns, s in
                                   st.vectors.items()},
                       "dimension": st.dims}
            self.send(200, out)
        elif path == "/_control/last" and method == "GET":
            p = query.get("path", [None])[-1]
            with st.lock:
                entry = st.last_any if p is None else st.last.get(p)
            if entry is None:
                raise ApiError(404, f"no request seen for {p or 'any path'}")
            self.send(200, entry)
        elif path == "/_control/log" and method == "GET":
            p = query.get("path", [None])[-1]
            try:
                limit = int(query.get("limit", ["100"])[-1])
            except ValueError:
                raise ApiError(400, "limit must be an integer") from None
            with st.lock:
                entries = [e for e in st.log if p is None or e["path"] == p]
            self.send(200, entries[-limit:] if limit > 0 else [])
        elif path == "/_control/fault" and method == "POST":
            faults = body if isinstance(body, list) else [body]
            parsed = [parse_fault(f) for f in faults]
            with st.lock:
                st.faults.extend(parsed)
                n = len(st.faults)
            self.send(200, {"ok": True, "pending": n})
        elif path == "/_control/faults" and method == "GET":
            with st.lock:
                self.send(200, list(st.faults))
        elif path == "/_control/reset" and method == "POST":
            with st.lock:
                st.faults.clear()
                st.reset_counters()
            self.send(200, {"ok": True})
        elif path == "/_control/clear" and method == "POST":
            with st.lock:
                st.faults.clear()
                st.reset_counters()
                st.vectors.clear()
                st.save()
            self.send(200, {"ok": True})
        else:
            raise ApiError(404, f"no control endpoint {method} {path}")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, socket.timeout)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--openai-key", default=os.environ.get("OPENAI_API_KEY"))
    ap.add_argument("--pinecone-key",
                    default=os.environ.get("PINECONE_API_KEY"))
    ap.add_argument("--dims", type=int, default=1536)
    ap.add_argument("--state")
    args = ap.parse_args()
    if args.dims < 1 or args.dims > 20000:
        ap.error("--dims must be 1..20000")
    state = State(args)
    server = Server((args.host, args.port), Handler)
    server.state = state
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
