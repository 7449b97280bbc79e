// slapd_instance.hpp — a throwaway OpenLDAP slapd for integration tests: its
// own temp directory, a free loopback port, an mdb database for
// dc=example,dc=com, optionally the reclaim plugin (slapd.conf `plugin` line or
// cn=config `olcPlugin` value) and syncrepl provider/consumer roles. slapd
// runs as a real daemon (it forks, as in production, so the plugin's init and
// start run in different processes) and is stopped by pid.
#pragma once

#include "process.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace reclaim::test {

// Where the plugin line goes: in the mdb database (slapd.conf: after
// `database mdb`; cn=config: olcPlugin on olcDatabase={1}mdb) or in the
// frontend (before any `database`; olcPlugin on olcDatabase={-1}frontend),
// which slapd applies to every database. RECLAIM_TEST_PLUGIN_SCOPE=database
// or =frontend overrides the choice for every instance.
enum class plugin_scope { database, frontend };

struct slapd_options {
  std::filesystem::path plugin;        // libreclaim.so.1; empty: no plugin
  plugin_scope scope = plugin_scope::database;
  std::filesystem::path plugin_config; // the TOML given as the plugin's argument
  std::string plugin_init = "reclaim_slapi_init";
  bool cn_config = false;              // slapd -F slapd.d instead of -f slapd.conf
  bool dbnosync = true;
  int server_id = 0;                   // 0: no serverID
  bool syncprov = false;               // provider role: syncprov overlay
  std::string syncrepl_provider;       // consumer role: the provider's URI
  std::string syncrepl_extra;          // more syncrepl keywords ("timeout=3")
  bool foreground = false;             // slapd -d stats (no fork); also by
                                       // RECLAIM_TEST_SLAPD_FOREGROUND=1
  // packaging/ldap/reclaim-lifecycle.schema (nsAccountLock, employeeStatus,
  // auxiliary class reclaimLifecycle); loaded after core, cosine,
  // inetorgperson, nis and msuser. Empty: the one in source_dir().
  std::filesystem::path lifecycle_schema;
};

struct start_result {
  bool ok = false;
  int exit_code = 0;  // the launching slapd's exit status
  std::string output; // what slapd wrote to stdout/stderr during this start
};

class slapd_instance {
public:
  static constexpr const char *suffix = "dc=example,dc=com";
  static constexpr const char *root_dn = "cn=admin,dc=example,dc=com";
  static constexpr const char *root_pw = "secret";

  // Prepares (does not start) an instance in dir, which must exist and be
  // empty or belong to an earlier instance with the same database.
  slapd_instance(std::filesystem::path dir, slapd_options options);
  ~slapd_instance();
  slapd_instance(const slapd_instance &) = delete;
  slapd_instance &operator=(const slapd_instance &) = delete;

  // Rewrites the configuration (only while stopped); the database stays.
  void reconfigure(slapd_options options);

  // slapadd of an LDIF file into the database (while stopped).
  process_result slapadd(const std::filesystem::path &ldif);
  // slaptest of the current configuration.
  process_result slaptest();

  // Starts slapd and waits until it answers LDAP; never throws for a
  // refused start (the result says why). start() throws instead.
  start_result try_start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void start();
  // SIGTERM by pid, wait, SIGKILL after timeout. Does nothing when stopped.
  void stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGKILL, as a crash would end it; waits until it is gone.
  void kill_hard();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  int port() const { return port_; }
  std::string uri() const;
  const std::filesystem::path &dir() const { return dir_; }
  const slapd_options &options() const { return options_; }
  std::filesystem::path config_path() const; // slapd.conf or slapd.d
  std::filesystem::path plugin_log_path() const { return dir_ / "plugin.log"; }
  std::filesystem::path output_path() const { return dir_ / "slapd.out"; }
  std::string plugin_log() const;
  std::string output() const; // all slapd output so far

private:
  void write_config();
  std::string slapd_conf_text() const;
  std::string cn_config_ldif() const;
  bool answers_ldap() const;

  std::filesystem::path dir_;
  slapd_options options_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool started_before_ = false;
};

// A slapd.conf-style schema file as a cn=config schema entry (LDIF), for
// slapadd -n0: objectidentifier / attributetype / objectclass statements.
std::string schema_to_ldif(const std::string &schema, const std::string &name);

// A loopback TCP port that was free a moment ago.
int pick_free_port();

} // namespace reclaim::test
