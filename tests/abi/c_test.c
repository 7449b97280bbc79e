/*
 * c_test.c — uses libreclaim.so.1 from C, exactly as a host would: open an
 * engine on a config it writes, submit events (and the same one twice),
 * feed LDAP changes and a catch-up search, check errors and versions.
 * Exits non-zero with a message on the first failed check.
 */
#define _POSIX_C_SOURCE 200809L
#include <reclaim/reclaim.h>

#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, \
              __LINE__, #cond, reclaim_error_last());                          \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static int logged = 0;
static void on_log(int level, const char *message, void *payload) {
  (void)level;
  (void)message;
  *(int *)payload += 1;
}

static void write_config(const char *path, const char *dir, int mode) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  fprintf(f,
          "[engine]\nstate_dir = \"%s/state\"\nlog_level = \"debug\"\n"
          "[ldap]\nbase = \"dc=example,dc=com\"\n"
          "leavers = [\"ou=Leavers,dc=example,dc=com\"]\n"
          "[[ldap.rule]]\nattribute = \"employeeType\"\n"
          "equals = [\"terminated\"]\nstate = \"terminated\"\n",
          dir);
  fclose(f);
  chmod(path, (mode_t)mode);
}

/* A catch-up search that "finds" one person, as a directory would. */
static int fake_search(const char *base, const char *filter, const char *const *attributes,
                       reclaim_ldap_entry_fn on_entry, void *entry_payload, void *payload) {
  static const char *oc[] = {"inetOrgPerson"};
  static const char *uuid[] = {"0b6d2c3e-0000-4000-8000-000000000001"};
  static const char *csn[] = {"20261127230000.000000Z#000000#000#000000"};
  static const char *type[] = {"terminated"};
  reclaim_attribute attrs[4];
  reclaim_ldap_entry entry;
  (void)base;
  (void)attributes;
  (void)payload;
  if (strstr(filter, "entryUUID=") != NULL) return 0; /* no pending deletes */
  attrs[0].name = "objectClass"; attrs[0].values = oc; attrs[0].value_count = 1;
  attrs[1].name = "entryUUID"; attrs[1].values = uuid; attrs[1].value_count = 1;
  attrs[2].name = "entryCSN"; attrs[2].values = csn; attrs[2].value_count = 1;
  attrs[3].name = "employeeType"; attrs[3].values = type; attrs[3].value_count = 1;
  entry.dn = "uid=carol,ou=People,dc=example,dc=com";
  entry.attributes = attrs;
  entry.attribute_count = 4;
  on_entry(&entry, entry_payload);
  return 0;
}

int main(void) {
  char dir[] = "/tmp/reclaim-c-test-XXXXXX";
  char config[256];
  reclaim_open_options options = RECLAIM_OPEN_OPTIONS_INIT;
  reclaim_engine *engine = NULL;
  reclaim_event event;
  bool recorded = false;
  int state = -1;
  size_t count = 0;
  const char *const *names = NULL;

  CHECK(reclaim_version_num() == RECLAIM_VERSION_NUM);
  CHECK(strcmp(reclaim_version(), RECLAIM_VERSION) == 0);
  CHECK(strcmp(reclaim_strerror(RECLAIM_OK), "ok") == 0);
  CHECK(reclaim_strerror(12345) != NULL);
  CHECK(reclaim_error_last() != NULL);
  CHECK(strcmp(reclaim_state_name(RECLAIM_STATE_CONTRACT_ENDED), "contract_ended") == 0);
  CHECK(reclaim_state_name(99) == NULL);
  CHECK(reclaim_state_parse(&state, "leave") == RECLAIM_OK && state == RECLAIM_STATE_LEAVE);
  CHECK(reclaim_state_parse(&state, "fired") == RECLAIM_ERR_INVALID_ARGUMENT);
  CHECK(strstr(reclaim_error_last(), "fired") != NULL);

  if (mkdtemp(dir) == NULL) return 2;
  snprintf(config, sizeof config, "%s/reclaim.toml", dir);

  /* A config writable by others is refused, and says why. */
  write_config(config, dir, 0666);
  options.config_path = config;
  CHECK(reclaim_engine_open(&engine, &options) == RECLAIM_ERR_PERMISSION);
  CHECK(engine == NULL);
  CHECK(strstr(reclaim_error_last(), "writable") != NULL);

  write_config(config, dir, 0600);
  options.log = on_log;
  options.log_payload = &logged;
  options.struct_size = 4; /* an unknown struct version */
  CHECK(reclaim_engine_open(&engine, &options) == RECLAIM_ERR_VERSION);
  options.struct_size = sizeof options;
  CHECK(reclaim_engine_open(&engine, &options) == RECLAIM_OK);
  CHECK(engine != NULL);
  if (engine == NULL) return 1;

  reclaim_event_init(&event);
  CHECK(reclaim_submit(&recorded, engine, &event) == RECLAIM_ERR_INVALID_ARGUMENT);
  event.subject_id = "scim-42";
  event.source = "scim";
  event.state = RECLAIM_STATE_TERMINATED;
  event.previous_state = RECLAIM_STATE_ACTIVE;
  event.idempotency_key = "scim-42/1";
  CHECK(reclaim_submit(&recorded, engine, &event) == RECLAIM_OK && recorded);
  CHECK(reclaim_submit(&recorded, engine, &event) == RECLAIM_OK && !recorded);
  event.state = 42;
  CHECK(reclaim_submit(NULL, engine, &event) == RECLAIM_ERR_INVALID_ARGUMENT);

  CHECK(reclaim_ldap_attribute_names(&names, &count, engine) == RECLAIM_OK);
  CHECK(count >= 4 && names[count] == NULL);

  /* First catch-up is a baseline: no events. The second finds nothing new. */
  CHECK(reclaim_ldap_catch_up(&count, engine, fake_search, NULL) == RECLAIM_OK && count == 0);
  CHECK(reclaim_ldap_catch_up(&count, engine, fake_search, NULL) == RECLAIM_OK && count == 0);
  CHECK(reclaim_flush(engine, 5000) == RECLAIM_OK);
  CHECK(logged > 0);

  /* 0.2: a modify as its DN and modifications (entryCSN included). */
  {
    static const char *employee[] = {"employee"};
    static const char *newer[] = {"20261127230001.000000Z#000000#000#000000"};
    reclaim_ldap_mod mods[2];
    reclaim_ldap_change change;
    reclaim_ldap_change_init(&change);
    mods[0].op = RECLAIM_LDAP_MOD_REPLACE; mods[0].type = "employeeType";
    mods[0].values = employee; mods[0].value_count = 1;
    mods[1].op = RECLAIM_LDAP_MOD_REPLACE; mods[1].type = "entryCSN";
    mods[1].values = newer; mods[1].value_count = 1;
    change.operation = RECLAIM_LDAP_MODIFY;
    change.dn = "uid=carol,ou=People,dc=example,dc=com";
    change.mods = mods;
    change.mod_count = 2;
    CHECK(reclaim_ldap_submit(engine, &change) == RECLAIM_OK);
    CHECK(reclaim_flush(engine, 5000) == RECLAIM_OK);
    CHECK(reclaim_ldap_refresh(&count, engine, fake_search, NULL) == RECLAIM_OK && count == 0);
    /* Bad modifications are refused, naming what is wrong. */
    mods[0].op = 7;
    CHECK(reclaim_ldap_submit(engine, &change) == RECLAIM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(reclaim_error_last(), "employeeType") != NULL);
    mods[0].op = RECLAIM_LDAP_MOD_REPLACE;
    change.operation = RECLAIM_LDAP_ADD;
    CHECK(reclaim_ldap_submit(engine, &change) == RECLAIM_ERR_INVALID_ARGUMENT);
    change.operation = RECLAIM_LDAP_MODIFY;
    change.mods = NULL;
    CHECK(reclaim_ldap_submit(engine, &change) == RECLAIM_ERR_INVALID_ARGUMENT);
    /* A host built against 0.1 passes the shorter struct: still accepted. */
    change.mod_count = 0;
    change.struct_size = (uint32_t)offsetof(reclaim_ldap_change, dn);
    CHECK(reclaim_ldap_submit(engine, &change) == RECLAIM_OK);
    change.struct_size = (uint32_t)offsetof(reclaim_ldap_change, mods);
    CHECK(reclaim_ldap_submit(engine, &change) == RECLAIM_ERR_VERSION);
    CHECK(reclaim_ldap_refresh(&count, NULL, fake_search, NULL) == RECLAIM_ERR_INVALID_ARGUMENT);
  }

  reclaim_engine_close(engine);
  reclaim_engine_close(NULL);
  if (failures == 0) printf("c_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
