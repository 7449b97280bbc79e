// slapd_instance.cpp — writes slapd.conf or a cn=config tree (slapadd -n0),
// starts Debian's /usr/sbin/slapd on 127.0.0.1:<free port> and stops it by
// pid. The directory layout: slapd.conf | slapd.d/, db/, slapd.pid,
// slapd.out (slapd's stdout/stderr), plugin.log (SLAPI log), schema files.
#include "slapd_instance.hpp"

#include "ldap_client.hpp"
#include "temp_dir.hpp"
#include "test_env.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace reclaim::test {
namespace fs = std::filesystem;
namespace {

using clock = std::chrono::steady_clock;

// Debian's schema files, then the shipped reclaim-lifecycle schema (which
// needs nis for shadowExpire and msuser for userAccountControl).
const std::vector<std::string> debian_schemas = {"core", "cosine", "inetorgperson", "nis",
                                                 "msuser"};

bool foreground_from_env() {
  const char *value = std::getenv("RECLAIM_TEST_SLAPD_FOREGROUND");
  return value != nullptr && std::string(value) == "1";
}

// Applies the environment overrides to options given by a test.
slapd_options with_env_overrides(slapd_options o) {
  o.foreground = o.foreground || foreground_from_env();
  if (const char *scope = std::getenv("RECLAIM_TEST_PLUGIN_SCOPE")) {
    if (std::string(scope) == "frontend") {
      o.scope = plugin_scope::frontend;
    } else if (std::string(scope) == "database") {
      o.scope = plugin_scope::database;
    }
  }
  return o;
}

std::string syncrepl_value(const std::string &provider, const std::string &extra) {
  return std::string("rid=001 provider=") + provider +
         " bindmethod=simple binddn=\"" + slapd_instance::root_dn + "\" credentials=" +
         slapd_instance::root_pw + " searchbase=\"" + slapd_instance::suffix +
         "\" type=refreshAndPersist retry=\"1 +\" network-timeout=3" +
         (extra.empty() ? "" : " " + extra);
}

std::string plugin_value(const slapd_options &o) {
  return "postoperation " + o.plugin.string() + " " + o.plugin_init + " " +
         o.plugin_config.string();
}

pid_t read_pid_file(const fs::path &path, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    std::istringstream in(read_text_file(path));
    long pid = 0;
    if (in >> pid && pid > 0) {
      return static_cast<pid_t>(pid);
    }
    if (clock::now() >= deadline) {
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace

std::string schema_to_ldif(const std::string &schema, const std::string &name) {
  // Join continuation lines (leading whitespace) into statements, drop
  // comments, and map each keyword to its cn=config attribute.
  std::vector<std::string> statements;
  std::istringstream in(schema);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !statements.empty()) {
      const auto text = line.find_first_not_of(" \t");
      if (text != std::string::npos) {
        statements.back() += " " + line.substr(text);
      }
      continue;
    }
    statements.push_back(line);
  }
  std::string ldif = "dn: cn=" + name + ",cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: " +
                     name + "\n";
  for (const auto &statement : statements) {
    const auto space = statement.find_first_of(" \t");
    std::string keyword = statement.substr(0, space);
    for (auto &ch : keyword) {
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    const auto rest = space == std::string::npos ? std::string() : statement.substr(space + 1);
    const char *attribute = keyword == "objectidentifier" ? "olcObjectIdentifier"
                            : keyword == "attributetype"  ? "olcAttributeTypes"
                            : keyword == "objectclass"    ? "olcObjectClasses"
                                                          : nullptr;
    if (attribute == nullptr) {
      throw std::runtime_error("schema_to_ldif: unknown statement: " + statement);
    }
    ldif += std::string(attribute) + ": " + rest + "\n";
  }
  return ldif;
}

int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

slapd_instance::slapd_instance(fs::path dir, slapd_options options)
    : dir_(std::move(dir)), options_(with_env_overrides(std::move(options))),
      port_(pick_free_port()) {
  become_subreaper();
  fs::create_directories(dir_ / "db");
  write_config();
}

slapd_instance::~slapd_instance() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the pid was signalled already.
  }
}

std::string slapd_instance::uri() const { return "ldap://127.0.0.1:" + std::to_string(port_) + "/"; }

fs::path slapd_instance::config_path() const {
  return options_.cn_config ? dir_ / "slapd.d" : dir_ / "slapd.conf";
}

std::string slapd_instance::plugin_log() const { return read_text_file(plugin_log_path()); }

std::string slapd_instance::output() const { return read_text_file(output_path()); }

void slapd_instance::reconfigure(slapd_options options) {
  if (running()) {
    throw std::logic_error("reconfigure while slapd is running");
  }
  options_ = with_env_overrides(std::move(options));
  write_config();
}

std::string slapd_instance::slapd_conf_text() const {
  std::ostringstream c;
  c << "# written by tests/support/slapd_instance.cpp\n";
  for (const auto &s : debian_schemas) {
    c << "include /etc/ldap/schema/" << s << ".schema\n";
  }
  c << "include " << options_.lifecycle_schema.string() << "\n"
    << "pidfile " << (dir_ / "slapd.pid").string() << "\n"
    << "pluginlog " << plugin_log_path().string() << "\n"
    << "modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload ppolicy\n";
  if (options_.syncprov) {
    c << "moduleload syncprov\n";
  }
  if (options_.server_id > 0) {
    c << "serverID " << options_.server_id << "\n";
  }
  const bool has_plugin = !options_.plugin.empty();
  if (has_plugin && options_.scope == plugin_scope::frontend) {
    c << "plugin " << plugin_value(options_) << "\n";
  }
  c << "\ndatabase mdb\nsuffix \"" << suffix << "\"\nrootdn \"" << root_dn << "\"\nrootpw "
    << root_pw << "\ndirectory " << (dir_ / "db").string() << "\nmaxsize 268435456\n"
    << "index objectClass eq\nindex entryUUID,entryCSN eq\n";
  if (options_.dbnosync) {
    c << "dbnosync\n";
  }
  if (!options_.syncrepl_provider.empty()) {
    c << "syncrepl " << syncrepl_value(options_.syncrepl_provider, options_.syncrepl_extra) << "\n";
  }
  if (has_plugin && options_.scope == plugin_scope::database) {
    c << "plugin " << plugin_value(options_) << "\n";
  }
  c << "overlay ppolicy\n";
  if (options_.syncprov) {
    c << "overlay syncprov\nsyncprov-checkpoint 100 1\n";
  }
  return c.str();
}

std::string slapd_instance::cn_config_ldif() const {
  std::ostringstream c;
  c << "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"
    << "olcPidFile: " << (dir_ / "slapd.pid").string() << "\n"
    << "olcPluginLogFile: " << plugin_log_path().string() << "\n";
  if (options_.server_id > 0) {
    c << "olcServerID: " << options_.server_id << "\n";
  }
  c << "\ndn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
    << "olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\nolcModuleLoad: ppolicy\n";
  if (options_.syncprov) {
    c << "olcModuleLoad: syncprov\n";
  }
  c << "\ndn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n";
  for (const auto &s : debian_schemas) {
    c << "include: file:///etc/ldap/schema/" << s << ".ldif\n\n";
  }
  c << "include: file://" << (dir_ / "reclaim-lifecycle.ldif").string() << "\n\n"
    << "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
    << "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n";
  const bool has_plugin = !options_.plugin.empty();
  if (has_plugin && options_.scope == plugin_scope::frontend) {
    c << "olcPlugin: " << plugin_value(options_) << "\n";
  }
  c << "\n"
    << "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
    << "olcDatabase: {0}config\n\n"
    << "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
    << "objectClass: olcMdbConfig\nolcDatabase: {1}mdb\nolcSuffix: " << suffix << "\n"
    << "olcRootDN: " << root_dn << "\nolcRootPW: " << root_pw << "\n"
    << "olcDbDirectory: " << (dir_ / "db").string() << "\nolcDbMaxSize: 268435456\n"
    << "olcDbIndex: objectClass eq\nolcDbIndex: entryUUID,entryCSN eq\n";
  if (options_.dbnosync) {
    c << "olcDbNoSync: TRUE\n";
  }
  if (!options_.syncrepl_provider.empty()) {
    c << "olcSyncrepl: " << syncrepl_value(options_.syncrepl_provider, options_.syncrepl_extra) << "\n";
  }
  if (has_plugin && options_.scope == plugin_scope::database) {
    c << "olcPlugin: " << plugin_value(options_) << "\n";
  }
  c << "\ndn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config\n"
    << "objectClass: olcOverlayConfig\nobjectClass: olcPPolicyConfig\nolcOverlay: {0}ppolicy\n";
  if (options_.syncprov) {
    c << "\ndn: olcOverlay={1}syncprov,olcDatabase={1}mdb,cn=config\n"
      << "objectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\n"
      << "olcOverlay: {1}syncprov\nolcSpCheckpoint: 100 1\n";
  }
  return c.str();
}

void slapd_instance::write_config() {
  if (options_.lifecycle_schema.empty()) {
    options_.lifecycle_schema = source_dir() / "packaging" / "ldap" / "reclaim-lifecycle.schema";
  }
  if (!fs::exists(options_.lifecycle_schema)) {
    throw std::runtime_error("lifecycle schema not found: '" + options_.lifecycle_schema.string() +
                             "' (set slapd_options::lifecycle_schema)");
  }
  if (!options_.cn_config) {
    write_text_file(dir_ / "slapd.conf", slapd_conf_text());
    return;
  }
  write_text_file(dir_ / "reclaim-lifecycle.ldif",
                  schema_to_ldif(read_text_file(options_.lifecycle_schema), "reclaim-lifecycle"));
  const auto ldif = dir_ / "config.ldif";
  write_text_file(ldif, cn_config_ldif());
  fs::remove_all(dir_ / "slapd.d");
  fs::create_directories(dir_ / "slapd.d");
  const std::vector<std::string> argv = {"slapadd", "-n0", "-F", (dir_ / "slapd.d").string(),
                                         "-l", ldif.string()};
  const auto r = run_process(argv);
  if (r.exit_code != 0) {
    throw std::runtime_error(describe_command(argv) + " failed (" + std::to_string(r.exit_code) +
                             "):\n" + r.output() + plugin_log());
  }
}

process_result slapd_instance::slapadd(const fs::path &ldif) {
  if (running()) {
    throw std::logic_error("slapadd while slapd is running");
  }
  std::vector<std::string> argv = {"slapadd"};
  argv.insert(argv.end(), {options_.cn_config ? "-F" : "-f", config_path().string()});
  argv.insert(argv.end(), {"-b", suffix, "-w", "-l", ldif.string()});
  return run_process(argv);
}

process_result slapd_instance::slaptest() {
  // -u: check the configuration only (the database may not exist yet).
  return run_process({"slaptest", "-u", options_.cn_config ? "-F" : "-f", config_path().string()});
}

bool slapd_instance::answers_ldap() const {
  try {
    ldap_connection probe(uri(), root_dn, root_pw);
    return true;
  } catch (const std::exception &) {
    return false;
  }
}

start_result slapd_instance::try_start(std::chrono::milliseconds timeout) {
  if (running()) {
    throw std::logic_error("slapd already running");
  }
  const auto before = output().size();
  std::error_code ignored;
  fs::remove(dir_ / "slapd.pid", ignored);
  std::vector<std::string> argv = {"/usr/sbin/slapd", options_.cn_config ? "-F" : "-f",
                                   config_path().string(), "-h", uri()};
  if (options_.foreground) {
    argv.insert(argv.end(), {"-d", "stats"});
  }
  const auto deadline = clock::now() + timeout;
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  };
  start_result result;
  const pid_t launcher = spawn_process(argv, output_path().string());
  if (options_.foreground) {
    pid_ = launcher;
  } else {
    // The launching process exits once the daemon is ready (or failed).
    result.exit_code = wait_process(launcher, left());
    if (result.exit_code != 0) {
      if (result.exit_code == -1) {
        ::kill(launcher, SIGKILL);
        wait_process(launcher, std::chrono::seconds(5));
      }
      result.output = output().substr(before);
      return result;
    }
    pid_ = read_pid_file(dir_ / "slapd.pid", left());
  }
  while (pid_ > 0 && process_alive(pid_) && !answers_ldap() && left().count() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pid_ <= 0 || !process_alive(pid_) || !answers_ldap()) {
    if (pid_ > 0) {
      result.exit_code = wait_process(pid_, std::chrono::milliseconds(100));
    }
    stop();
    result.output = output().substr(before);
    return result;
  }
  result.ok = true;
  result.output = output().substr(before);
  return result;
}

void slapd_instance::start() {
  for (int attempt = 0;; ++attempt) {
    auto r = try_start();
    if (r.ok) {
      started_before_ = true;
      return;
    }
    // Another process may have taken our port since pick_free_port(); move
    // only if no one has been told the port yet.
    const bool port_taken = r.output.find("bind(") != std::string::npos;
    if (!port_taken || attempt == 2 || started_before_) {
      throw std::runtime_error("slapd did not start (exit " + std::to_string(r.exit_code) +
                               ") in " + dir_.string() + ":\n" + r.output + "\nplugin log:\n" +
                               plugin_log());
    }
    port_ = pick_free_port();
  }
}

void slapd_instance::kill_hard() {
  if (pid_ <= 0) {
    return;
  }
  const pid_t pid = pid_;
  pid_ = -1;
  ::kill(pid, SIGKILL);
  wait_process(pid, std::chrono::seconds(10));
}

void slapd_instance::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return;
  }
  const pid_t pid = pid_;
  pid_ = -1;
  if (!process_alive(pid)) {
    wait_process(pid, std::chrono::milliseconds(0));
    return;
  }
  ::kill(pid, SIGTERM);
  if (wait_process(pid, timeout) == -1) {
    ::kill(pid, SIGKILL);
    wait_process(pid, std::chrono::seconds(5));
    throw std::runtime_error("slapd " + std::to_string(pid) + " ignored SIGTERM for " +
                             std::to_string(timeout.count()) + " ms; killed");
  }
}

} // namespace reclaim::test
