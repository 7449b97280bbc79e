/* engine_host.c — a minimal second host of libreclaim for the topology
 * tests, written against reclaim.h only (as reclaim-scimd or any program
 * would be): opens an engine on a config (optionally with a role flag),
 * writes a ready file, submits "terminated" events for the subjects named
 * with --subjects when it receives SIGUSR1, and closes on SIGTERM.
 *   engine_host --config TOML [--role engine|intake|config] [--ready FILE]
 *               [--subjects ID,ID,...] [--source NAME]
 * Logs go to stderr, one line each, prefixed with the host's pid. */
#define _POSIX_C_SOURCE 200809L
#include <reclaim/reclaim.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_wanted = 0;
static volatile sig_atomic_t submit_wanted = 0;

static void on_term(int sig) {
  (void)sig;
  stop_wanted = 1;
}

static void on_usr1(int sig) {
  (void)sig;
  submit_wanted = 1;
}

static void log_line(int level, const char *message, void *payload) {
  (void)payload;
  fprintf(stderr, "[%ld] %d %s\n", (long)getpid(), level, message);
  fflush(stderr);
}

/* Submits one "terminated" event per comma-separated subject; returns how
 * many failed. */
static int submit_all(reclaim_engine *engine, const char *subjects, const char *source) {
  int failed = 0;
  char *copy = strdup(subjects);
  char *save = NULL;
  char *id;
  if (copy == NULL) return 1;
  for (id = strtok_r(copy, ",", &save); id != NULL; id = strtok_r(NULL, ",", &save)) {
    char key[512];
    reclaim_event ev;
    bool recorded = false;
    int rc;
    reclaim_event_init(&ev);
    snprintf(key, sizeof key, "%s/terminated/engine_host", id);
    ev.subject_id = id;
    ev.subject_name = id;
    ev.source = source;
    ev.state = RECLAIM_STATE_TERMINATED;
    ev.previous_state = RECLAIM_STATE_ACTIVE;
    ev.idempotency_key = key;
    ev.actor = "engine_host";
    rc = reclaim_submit(&recorded, engine, &ev);
    if (rc != RECLAIM_OK) {
      fprintf(stderr, "[%ld] submit %s: %s: %s\n", (long)getpid(), id, reclaim_strerror(rc), reclaim_error_last());
      ++failed;
    }
  }
  free(copy);
  fprintf(stderr, "[%ld] submitted (%d failed)\n", (long)getpid(), failed);
  return failed;
}

int main(int argc, char **argv) {
  const char *config = NULL, *role = "config", *ready = NULL, *subjects = NULL, *source = "scim";
  reclaim_open_options options;
  reclaim_engine *engine = NULL;
  struct sigaction sa;
  int i, rc;
  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--config") == 0) config = argv[i + 1];
    else if (strcmp(argv[i], "--role") == 0) role = argv[i + 1];
    else if (strcmp(argv[i], "--ready") == 0) ready = argv[i + 1];
    else if (strcmp(argv[i], "--subjects") == 0) subjects = argv[i + 1];
    else if (strcmp(argv[i], "--source") == 0) source = argv[i + 1];
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (config == NULL || i != argc) {
    fprintf(stderr, "usage: engine_host --config TOML [--role engine|intake|config] [--ready FILE] "
                    "[--subjects ID,...] [--source NAME]\n");
    return 2;
  }
  if (reclaim_version_num() < 0x000400) {
    fprintf(stderr, "libreclaim %s has no role flags (0.4 needed)\n", reclaim_version());
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);

  reclaim_open_options_init(&options);
  options.config_path = config;
  options.log = log_line;
  if (strcmp(role, "engine") == 0) options.flags |= RECLAIM_OPEN_ROLE_ENGINE;
  else if (strcmp(role, "intake") == 0) options.flags |= RECLAIM_OPEN_ROLE_INTAKE;
  else if (strcmp(role, "config") != 0) {
    fprintf(stderr, "unknown role %s\n", role);
    return 2;
  }
  rc = reclaim_engine_open(&engine, &options);
  if (rc != RECLAIM_OK) {
    fprintf(stderr, "[%ld] open: %s: %s\n", (long)getpid(), reclaim_strerror(rc), reclaim_error_last());
    return 1;
  }
  if (ready != NULL) {
    FILE *f = fopen(ready, "w");
    if (f != NULL) {
      fprintf(f, "%ld\n", (long)getpid());
      fclose(f);
    }
  }
  while (!stop_wanted) {
    struct timespec t = {0, 20 * 1000 * 1000};
    if (submit_wanted && subjects != NULL) {
      submit_wanted = 0;
      submit_all(engine, subjects, source);
    }
    nanosleep(&t, NULL);
  }
  reclaim_engine_close(engine);
  fprintf(stderr, "[%ld] closed\n", (long)getpid());
  return 0;
}
