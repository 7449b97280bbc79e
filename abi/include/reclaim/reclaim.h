/*
 * reclaim.h — the one public header of libreclaim (SONAME libreclaim.so.1).
 *
 * Pure C99: identity platforms (a directory server's plugin adapter,
 * reclaim-scimd, or any program through ctypes/cgo/FFM) load the library and
 * hand it lifecycle changes through these calls. Every function is safe to
 * call from C; none lets an exception or a signal escape. The stability
 * policy and the list of exported symbols are in docs/ABI.md.
 */
#ifndef RECLAIM_RECLAIM_H
#define RECLAIM_RECLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RECLAIM_API __attribute__((visibility("default")))
#else
#define RECLAIM_API
#endif

/* ---------------------------------------------------------------- versions */

#define RECLAIM_VERSION_MAJOR 0
#define RECLAIM_VERSION_MINOR 5
#define RECLAIM_VERSION_PATCH 0
#define RECLAIM_VERSION "0.5.0"
/* 0xMMmmpp: compare with reclaim_version_num() to check header and library. */
#define RECLAIM_VERSION_NUM                                                    \
  ((RECLAIM_VERSION_MAJOR << 16) | (RECLAIM_VERSION_MINOR << 8) |             \
   RECLAIM_VERSION_PATCH)

/* The library's version number, in the RECLAIM_VERSION_NUM encoding.
 * THREADS: any. */
RECLAIM_API int reclaim_version_num(void);

/* The library's version as a static string ("0.1.0").
 * OWNERSHIP: static, never free. THREADS: any. */
RECLAIM_API const char *reclaim_version(void);

/* ------------------------------------------------------------ status codes */

/* Status codes are append-only: a value is never renumbered or reused. */
#define RECLAIM_OK 0
#define RECLAIM_ERR_INVALID_ARGUMENT 1 /* NULL where not allowed, bad value */
#define RECLAIM_ERR_VERSION 2          /* struct_size/version not supported */
#define RECLAIM_ERR_CONFIG 3           /* config file missing or invalid */
#define RECLAIM_ERR_PERMISSION 4       /* file mode unsafe (config, secret) */
#define RECLAIM_ERR_STORE 5            /* state store (SQLite) failed */
#define RECLAIM_ERR_NOMEM 6            /* out of memory */
#define RECLAIM_ERR_INTERNAL 7         /* a bug in reclaim: please report */
#define RECLAIM_ERR_NOT_FOUND 8        /* the named item does not exist */
#define RECLAIM_ERR_SEARCH 9           /* a host search callback failed */
#define RECLAIM_ERR_TIMEOUT 10         /* the wait ended before the work */

/* A static, human-readable name for a status code ("invalid argument").
 * OWNERSHIP: static, never free. THREADS: any. */
RECLAIM_API const char *reclaim_strerror(int status);

/* The message of the last failed call on this thread, never NULL ("" when
 * no call has failed). It says which file, line, key or item was wrong.
 * OWNERSHIP: thread-local; valid until the next reclaim_* call on this
 * thread. Copy it if you need it longer. THREADS: any (per thread). */
RECLAIM_API const char *reclaim_error_last(void);

/* ---------------------------------------------------------- lifecycle states */

/* The one vocabulary every source maps to (docs/config.md). Append-only. */
typedef enum reclaim_state {
  RECLAIM_STATE_NONE = 0, /* not known / not a person before (an add) */
  RECLAIM_STATE_ACTIVE = 1,
  RECLAIM_STATE_LEAVE = 2,
  RECLAIM_STATE_TRANSFERRED = 3,
  RECLAIM_STATE_TERMINATED = 4,
  RECLAIM_STATE_CONTRACT_ENDED = 5,
  RECLAIM_STATE_REACTIVATED = 6,
  RECLAIM_STATE_DELETED = 7
} reclaim_state;

/* "active", "leave", …; "none" for RECLAIM_STATE_NONE; NULL if out of range.
 * OWNERSHIP: static. THREADS: any. */
RECLAIM_API const char *reclaim_state_name(int state);

/* Parses a state name (exact, lower case) into *out.
 * Returns RECLAIM_OK or RECLAIM_ERR_INVALID_ARGUMENT. THREADS: any. */
RECLAIM_API int reclaim_state_parse(int *out, const char *name);

/* ------------------------------------------------------------------ logging */

#define RECLAIM_LOG_ERROR 0
#define RECLAIM_LOG_WARNING 1
#define RECLAIM_LOG_INFO 2
#define RECLAIM_LOG_DEBUG 3

/* Log output reaches the host only through this callback (never stdout).
 * OWNERSHIP: message is borrowed for the duration of the call.
 * THREADS: called from the host's threads and from the engine's own
 * threads; it must be thread-safe and must not call back into reclaim. */
typedef void (*reclaim_log_fn)(int level, const char *message, void *payload);

/* ------------------------------------------------------------------- engine */

typedef struct reclaim_engine reclaim_engine;

/* Validate the configuration only: open no store, start no thread. For
 * hosts that load the plugin in offline tools (slaptest, slapadd). */
#define RECLAIM_OPEN_VALIDATE_ONLY 0x1u
/* Since 0.4. Which of the engine's work this process does when several
 * hosts share one state_dir, overriding [engine] role of the config (so
 * slapd and a second host can read the same file): ROLE_ENGINE plans,
 * dispatches and appends the audit log for every host sharing the state_dir;
 * ROLE_INTAKE only journals (no planner, dispatcher or audit threads).
 * At most one of them; neither: [engine] role decides (default "all"). */
#define RECLAIM_OPEN_ROLE_ENGINE 0x2u
#define RECLAIM_OPEN_ROLE_INTAKE 0x4u

typedef struct reclaim_open_options {
  uint32_t struct_size;    /* sizeof(reclaim_open_options) */
  const char *config_path; /* NULL: $RECLAIM_CONFIG, else
                              /etc/reclaim/reclaim.toml */
  uint32_t flags;          /* RECLAIM_OPEN_* */
  reclaim_log_fn log;      /* may be NULL: logs are dropped */
  void *log_payload;       /* passed to log */
} reclaim_open_options;

#define RECLAIM_OPEN_OPTIONS_INIT {sizeof(reclaim_open_options), NULL, 0u, NULL, NULL}

/* Fills *options with RECLAIM_OPEN_OPTIONS_INIT. THREADS: any. */
RECLAIM_API void reclaim_open_options_init(reclaim_open_options *options);

/* Loads and checks the configuration, opens the state store and returns an
 * engine in *out. On failure *out is NULL and reclaim_error_last() names the
 * file, line, column and key at fault.
 * OWNERSHIP: options are copied; free the engine with reclaim_engine_close.
 * THREADS: any; the engine is thread-safe. */
RECLAIM_API int reclaim_engine_open(reclaim_engine **out,
                                    const reclaim_open_options *options);

/* Drains queued work, stops the engine's threads and frees the engine.
 * NULL does nothing. THREADS: not concurrently with other calls on it. */
RECLAIM_API void reclaim_engine_close(reclaim_engine *engine);

/* ------------------------------------------------------------------- events */

/* A named attribute with string values (UTF-8; binary values are skipped). */
typedef struct reclaim_attribute {
  const char *name;
  const char *const *values;
  size_t value_count;
} reclaim_attribute;

/* A normalised lifecycle event, as any host can submit it. */
typedef struct reclaim_event {
  uint32_t struct_size;            /* sizeof(reclaim_event) */
  const char *subject_id;          /* required: stable id (entryUUID, SCIM id) */
  const char *source;              /* required: "ldap", "scim", "hr", … */
  int state;                       /* required: reclaim_state, not NONE */
  int previous_state;              /* reclaim_state; NONE when unknown */
  const reclaim_attribute *attributes; /* may be NULL when count is 0 */
  size_t attribute_count;
  int64_t time_unix_ms;            /* when it happened; 0 means now, else
                                      1 .. 253402300799999 (1970 to 9999-12-31):
                                      outside, RECLAIM_ERR_INVALID_ARGUMENT */
  const char *idempotency_key;     /* required: same key = same event */
  const char *subject_name;        /* optional display name (a DN) */
  const char *actor;               /* optional: who made the change */
} reclaim_event;

#define RECLAIM_EVENT_INIT                                                     \
  {sizeof(reclaim_event), NULL, NULL, RECLAIM_STATE_NONE, RECLAIM_STATE_NONE,  \
   NULL, 0, 0, NULL, NULL, NULL}

/* Fills *event with RECLAIM_EVENT_INIT. THREADS: any. */
RECLAIM_API void reclaim_event_init(reclaim_event *event);

/* Makes the event durable in the journal before returning (a synchronous
 * SQLite commit). *out_recorded (may be NULL) is true when it was new, false
 * when an event with the same idempotency key was already journalled (then
 * nothing changes).
 * OWNERSHIP: everything in *event is copied before return.
 * THREADS: any. */
RECLAIM_API int reclaim_submit(bool *out_recorded, reclaim_engine *engine,
                               const reclaim_event *event);

/* Group commit (since 0.5): journals events[0 .. count) in ONE synchronous
 * transaction, all or nothing. Every event is validated first; when one is
 * bad nothing is recorded and reclaim_error_last() names its index. Within
 * the batch, as across calls, a repeated idempotency key is not recorded
 * again. out_recorded (may be NULL) is an array of count: out_recorded[i] as
 * reclaim_submit's *out_recorded for events[i]. count 0 is a no-op.
 * OWNERSHIP: everything in events is copied before return.
 * THREADS: any. */
RECLAIM_API int reclaim_submit_batch(bool *out_recorded, reclaim_engine *engine,
                                     const reclaim_event *events, size_t count);

/* --------------------------------------------------------- LDAP change intake */

/* An entry as an LDAP host sees it; include entryUUID and entryCSN when the
 * server has them. */
typedef struct reclaim_ldap_entry {
  const char *dn;
  const reclaim_attribute *attributes;
  size_t attribute_count;
} reclaim_ldap_entry;

#define RECLAIM_LDAP_ADD 1
#define RECLAIM_LDAP_MODIFY 2
#define RECLAIM_LDAP_MODRDN 3
#define RECLAIM_LDAP_DELETE 4

/* PREPARE: before the operation is applied (pre-operation). Only a delete
 * does durable work here: its pre-image is committed so that a crash after
 * the delete cannot lose it. COMMIT: the operation succeeded. ABORT: it
 * failed; a prepared delete is forgotten. */
#define RECLAIM_LDAP_PREPARE 1
#define RECLAIM_LDAP_COMMIT 2
#define RECLAIM_LDAP_ABORT 3

/* One modification of a modify, as the server applied it. The operation
 * codes are LDAP's (LDAP_MOD_ADD 0, LDAP_MOD_DELETE 1, LDAP_MOD_REPLACE 2). */
#define RECLAIM_LDAP_MOD_ADD 0
#define RECLAIM_LDAP_MOD_DELETE 1
#define RECLAIM_LDAP_MOD_REPLACE 2

typedef struct reclaim_ldap_mod {
  int op;                            /* RECLAIM_LDAP_MOD_ADD … REPLACE */
  const char *type;                  /* attribute type, options allowed */
  const char *const *values;         /* value_count values (NULL ones skipped) */
  size_t value_count;
} reclaim_ldap_mod;

/* reclaim_ldap_change.flags */
/* The change was applied by replication (it was made on another server,
 * which journals it): the engine only updates its copy of the person. */
#define RECLAIM_LDAP_REPLICATED 0x1u

typedef struct reclaim_ldap_change {
  uint32_t struct_size;              /* sizeof(reclaim_ldap_change) */
  int operation;                     /* RECLAIM_LDAP_ADD … DELETE */
  int phase;                         /* RECLAIM_LDAP_PREPARE … ABORT */
  const reclaim_ldap_entry *before;  /* the entry before; NULL if unknown */
  const reclaim_ldap_entry *after;   /* the entry after; NULL for delete */
  const char *actor;                 /* requestor DN; may be NULL */
  int64_t time_unix_ms;              /* 0 means now; range as reclaim_event */
  /* Since 0.2 (a host built against 0.1 passes the shorter struct). A
   * MODIFY may come as its target DN and modifications instead of entries:
   * the engine applies them to its own copy of the person's watched
   * attributes (so the host needs no read of the entry). The modifications
   * must include the operation's new entryCSN; only those of watched
   * attributes (reclaim_ldap_attribute_names) matter. */
  const char *dn;                    /* target DN when before/after are NULL */
  const reclaim_ldap_mod *mods;      /* mod_count modifications */
  size_t mod_count;
  uint32_t flags;                    /* RECLAIM_LDAP_REPLICATED */
} reclaim_ldap_change;

#define RECLAIM_LDAP_CHANGE_INIT                                               \
  {sizeof(reclaim_ldap_change), 0, RECLAIM_LDAP_COMMIT, NULL, NULL, NULL, 0,   \
   NULL, NULL, 0, 0}

/* Fills *change with RECLAIM_LDAP_CHANGE_INIT. THREADS: any. */
RECLAIM_API void reclaim_ldap_change_init(reclaim_ldap_change *change);

/* Hands one directory change to the engine, which maps it to a lifecycle
 * state with the [ldap] rules of the config and journals it if the state
 * changed. COMMIT of add/modify/modrdn only copies the change into the
 * engine's queue and returns (no disk or network wait); the directory stays
 * the durable source and reclaim_ldap_catch_up() recovers what a crash lost
 * (docs/journal.md). PREPARE of a delete commits the pre-image to disk.
 * Changes outside [ldap].base or of non-person entries are ignored.
 * OWNERSHIP: everything is copied before return. THREADS: any. */
RECLAIM_API int reclaim_ldap_submit(reclaim_engine *engine,
                                    const reclaim_ldap_change *change);

/* The attribute names the engine needs in every entry it is given (state
 * attributes, transfer attributes, objectClass, entryUUID, entryCSN), as a
 * NULL-terminated array; *out_count (may be NULL) receives its length.
 * OWNERSHIP: borrowed; lives as long as the engine. THREADS: any. */
RECLAIM_API int reclaim_ldap_attribute_names(const char *const **out,
                                             size_t *out_count,
                                             reclaim_engine *engine);

/* A host-provided subtree search. It calls on_entry(entry, entry_payload)
 * once per entry found (the entry is borrowed for that call) and returns
 * 0, or non-zero on failure. "No such object" is not a failure. */
typedef void (*reclaim_ldap_entry_fn)(const reclaim_ldap_entry *entry,
                                      void *entry_payload);
typedef int (*reclaim_ldap_search_fn)(const char *base, const char *filter,
                                      const char *const *attributes,
                                      reclaim_ldap_entry_fn on_entry,
                                      void *entry_payload, void *payload);

/* Finds what the event path missed since the last journalled change (by
 * entryCSN, with a safety margin) and what prepared deletes never
 * committed, using the host's search, and journals it. On the first run it
 * records the directory's current people as a baseline without events.
 * *out_recorded (may be NULL) receives the number of events journalled.
 * Call it once when the host starts, before changes flow.
 * THREADS: any; search is called on the calling thread. */
RECLAIM_API int reclaim_ldap_catch_up(size_t *out_recorded,
                                      reclaim_engine *engine,
                                      reclaim_ldap_search_fn search,
                                      void *payload);

/* Reads again, with the host's search, the entries the engine asked for: a
 * modification (see reclaim_ldap_change.mods) of an entry the engine had no
 * copy of, e.g. one that just became a person. Journals what they show, as
 * catch-up does. Returns at once (RECLAIM_OK, *out_recorded 0) when nothing
 * is wanted, so a host may call it before every change it submits.
 * THREADS: any; search is called on the calling thread. */
RECLAIM_API int reclaim_ldap_refresh(size_t *out_recorded,
                                     reclaim_engine *engine,
                                     reclaim_ldap_search_fn search,
                                     void *payload);

/* Waits until every change queued by reclaim_ldap_submit is journalled (or
 * timeout_ms passes; 0 waits forever). Returns RECLAIM_OK when drained,
 * RECLAIM_ERR_TIMEOUT otherwise.
 * THREADS: any. */
RECLAIM_API int reclaim_flush(reclaim_engine *engine, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* RECLAIM_RECLAIM_H */
