#!/usr/bin/env python3
"""ctypes_host.py — a second-language host: Python loads libreclaim.so.1 with
ctypes (nothing but reclaim.h's C types), checks the version, opens an engine
on a temporary config, submits an event, reads the error of a bad call and
closes. The journal is then read with the sqlite3 module: the event is there.

Usage: ctypes_host.py /path/to/libreclaim.so.1 /path/to/reclaim.h
"""
import ctypes
import os
import re
import sqlite3
import sys
import tempfile

RECLAIM_OK = 0
RECLAIM_ERR_INVALID_ARGUMENT = 1
RECLAIM_ERR_VERSION = 2
RECLAIM_STATE_ACTIVE = 1
RECLAIM_STATE_TERMINATED = 4

LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class OpenOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("config_path", ctypes.c_char_p),
                ("flags", ctypes.c_uint32), ("log", LOG_FN), ("log_payload", ctypes.c_void_p)]


class Attribute(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("values", ctypes.POINTER(ctypes.c_char_p)),
                ("value_count", ctypes.c_size_t)]


class Event(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("subject_id", ctypes.c_char_p),
                ("source", ctypes.c_char_p), ("state", ctypes.c_int), ("previous_state", ctypes.c_int),
                ("attributes", ctypes.POINTER(Attribute)), ("attribute_count", ctypes.c_size_t),
                ("time_unix_ms", ctypes.c_int64), ("idempotency_key", ctypes.c_char_p),
                ("subject_name", ctypes.c_char_p), ("actor", ctypes.c_char_p)]


def fail(message):
    print(f"ctypes_host: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def header_version(header):
    text = open(header, encoding="utf-8").read()
    part = {k: int(re.search(rf"#define RECLAIM_VERSION_{k} (\d+)", text).group(1))
            for k in ("MAJOR", "MINOR", "PATCH")}
    return (part["MAJOR"] << 16) | (part["MINOR"] << 8) | part["PATCH"]


def bind(lib):
    lib.reclaim_version_num.restype = ctypes.c_int
    lib.reclaim_version.restype = ctypes.c_char_p
    lib.reclaim_error_last.restype = ctypes.c_char_p
    lib.reclaim_strerror.restype = ctypes.c_char_p
    lib.reclaim_strerror.argtypes = [ctypes.c_int]
    lib.reclaim_open_options_init.argtypes = [ctypes.POINTER(OpenOptions)]
    lib.reclaim_event_init.argtypes = [ctypes.POINTER(Event)]
    lib.reclaim_engine_open.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(OpenOptions)]
    lib.reclaim_engine_open.restype = ctypes.c_int
    lib.reclaim_engine_close.argtypes = [ctypes.c_void_p]
    lib.reclaim_engine_close.restype = None
    lib.reclaim_submit.argtypes = [ctypes.POINTER(ctypes.c_bool), ctypes.c_void_p, ctypes.POINTER(Event)]
    lib.reclaim_submit.restype = ctypes.c_int


def main():
    if len(sys.argv) != 3:
        fail(__doc__)
    lib = ctypes.CDLL(sys.argv[1])
    bind(lib)
    expected = header_version(sys.argv[2])
    if lib.reclaim_version_num() != expected:
        fail(f"library version {lib.reclaim_version_num():#x} != header {expected:#x}")
    print(f"ctypes_host: libreclaim {lib.reclaim_version().decode()} loaded")

    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "reclaim.toml")
        with open(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600), "w", encoding="utf-8") as f:
            f.write(f'[engine]\nstate_dir = "{tmp}/state"\n[ldap]\nbase = "dc=example,dc=com"\n')

        logs = []
        log = LOG_FN(lambda level, message, payload: logs.append((level, message.decode())))
        options = OpenOptions()
        lib.reclaim_open_options_init(ctypes.byref(options))
        if options.struct_size != ctypes.sizeof(OpenOptions):
            fail(f"reclaim_open_options struct_size {options.struct_size} != {ctypes.sizeof(OpenOptions)}")
        options.config_path = config.encode()
        options.log = log
        engine = ctypes.c_void_p()
        rc = lib.reclaim_engine_open(ctypes.byref(engine), ctypes.byref(options))
        if rc != RECLAIM_OK:
            fail(f"reclaim_engine_open: {lib.reclaim_strerror(rc).decode()}: {lib.reclaim_error_last().decode()}")
        try:
            values = (ctypes.c_char_p * 1)(b"ada@example.com")
            attrs = (Attribute * 1)(Attribute(b"mail", values, 1))
            event = Event()
            lib.reclaim_event_init(ctypes.byref(event))
            if event.struct_size != ctypes.sizeof(Event):
                fail(f"reclaim_event struct_size {event.struct_size} != {ctypes.sizeof(Event)}")
            event.subject_id = b"py-ada"
            event.source = b"python"
            event.state = RECLAIM_STATE_TERMINATED
            event.previous_state = RECLAIM_STATE_ACTIVE
            event.attributes = attrs
            event.attribute_count = 1
            event.idempotency_key = b"python/ada/1"
            event.subject_name = b"Ada Lovelace"
            recorded = ctypes.c_bool(False)
            rc = lib.reclaim_submit(ctypes.byref(recorded), engine, ctypes.byref(event))
            if rc != RECLAIM_OK or not recorded.value:
                fail(f"reclaim_submit: rc {rc}, recorded {recorded.value}: {lib.reclaim_error_last().decode()}")
            rc = lib.reclaim_submit(ctypes.byref(recorded), engine, ctypes.byref(event))
            if rc != RECLAIM_OK or recorded.value:
                fail(f"the same idempotency key again: rc {rc}, recorded {recorded.value}")

            bad = Event()
            lib.reclaim_event_init(ctypes.byref(bad))  # no subject_id: a bad call
            rc = lib.reclaim_submit(None, engine, ctypes.byref(bad))
            message = lib.reclaim_error_last().decode()
            if rc != RECLAIM_ERR_INVALID_ARGUMENT or "subject_id" not in message:
                fail(f"a NULL subject_id gave rc {rc}, message {message!r}")
            print(f"ctypes_host: bad call refused as expected: {message}")
            bad.struct_size = 3
            rc = lib.reclaim_submit(None, engine, ctypes.byref(bad))
            if rc != RECLAIM_ERR_VERSION:
                fail(f"struct_size 3 gave rc {rc}: {lib.reclaim_error_last().decode()}")
        finally:
            lib.reclaim_engine_close(engine)
        lib.reclaim_engine_close(None)  # NULL does nothing

        db = sqlite3.connect(f"file:{tmp}/state/journal.sqlite3?mode=ro", uri=True)
        rows = db.execute("SELECT subject_id, source, state, previous_state, attributes FROM events").fetchall()
        db.close()
        if rows != [("py-ada", "python", "terminated", "active", '{"mail":["ada@example.com"]}')]:
            fail(f"journal holds {rows}")
    print("ctypes_host: ok (opened, submitted once, refused a bad call, closed)")


if __name__ == "__main__":
    main()
