// test_scimd_config.cpp — [scim_server]: what is accepted, and every refusal
// names file:line and the key.
#include "scimd_config.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace reclaim::scimd;

namespace {

struct temp_file {
  std::filesystem::path dir;
  temp_file() {
    char tmpl[] = "/tmp/scimd-config-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~temp_file() { std::filesystem::remove_all(dir); }
  std::string write(const std::string &name, const std::string &text, mode_t mode = 0600) const {
    const auto p = (dir / name).string();
    std::ofstream(p) << text;
    chmod(p.c_str(), mode);
    return p;
  }
};

const std::string hash = token_sha256_hex("s3cret");

std::string load_error(const std::string &path) {
  try {
    load_config(path);
  } catch (const config_error &e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_CASE(a_complete_section_is_read) {
  temp_file t;
  const auto p = t.write("r.toml", "[engine]\nstate_dir = \"/srv/reclaim\"\n[legal_hold]\nattribute = \"businessCategory\"\n"
                                   "value = \"legal-hold\"\n[scim_server]\nlisten = \"127.0.0.1:0\"\nsubject_key = \"externalId\"\n"
                                   "tokens = [{ token_sha256 = \"" + hash + "\", role = \"provisioner\", name = \"entra\" }]\n"
                                   "[scim_server.mapping]\ninactive_state = \"leave\"\ntransfer_attributes = [\"department\"]\n"
                                   "[scim_server.limits]\nmax_body_bytes = 4096\nmax_connections = 3\n");
  const auto cfg = load_config(p);
  BOOST_TEST(cfg.state_dir == "/srv/reclaim");
  BOOST_TEST(cfg.listen_port == 0);
  BOOST_TEST(cfg.loopback);
  BOOST_TEST(cfg.mapping.subject_key == "externalId");
  BOOST_TEST(cfg.mapping.inactive_state == "leave");
  BOOST_TEST(cfg.mapping.hold_attribute == "businessCategory");
  BOOST_TEST(cfg.mapping.transfer_attributes == std::vector<std::string>{"department"});
  BOOST_TEST(cfg.limits.max_body_bytes == 4096u);
  BOOST_TEST(cfg.limits.max_connections == 3u);
  BOOST_TEST_REQUIRE(cfg.tokens.size() == 1u);
  BOOST_TEST(cfg.tokens[0].name == "entra");
  BOOST_TEST((cfg.tokens[0].who == role::provisioner));
}

BOOST_AUTO_TEST_CASE(refusals_name_file_line_and_key) {
  temp_file t;
  const std::string tok = "tokens = [{ token_sha256 = \"" + hash + "\", role = \"reader\" }]\n";
  struct row {
    std::string text, expect;
  };
  const std::vector<row> rows = {
      {"[scim_server]\n" + tok + "listn = \"127.0.0.1:1\"\n", ":3:1: scim_server.listn: unknown key"},
      {"[scim_server]\n" + tok + "listen = \"0.0.0.0:8443\"\n", "plain HTTP is only allowed on a loopback address"},
      {"[scim_server]\n" + tok + "listen = \"localhost:8443\"\n", "must be an IP address"},
      {"[scim_server]\n" + tok + "listen = \"127.0.0.1:70000\"\n", "port must be"},
      {"[scim_server]\ntokens = [{ token_sha256 = \"abc\", role = \"reader\" }]\n", "token_sha256: required: 64 hex"},
      {"[scim_server]\ntokens = [{ token_sha256 = \"" + hash + "\", role = \"admin\" }]\n", "role: required"},
      {"[scim_server]\nlisten = \"127.0.0.1:1\"\n", "no tokens"},
      {"[scim_server]\n" + tok + "subject_key = \"mail\"\n", ":3:15: scim_server.subject_key"},
      {"[scim_server]\n" + tok + "[scim_server.mapping]\ninactive_state = \"fired\"\n", "scim_server.mapping.inactive_state"},
      {"[scim_server]\n" + tok + "[scim_server.limits]\nmax_body_bytes = 1\n", "scim_server.limits.max_body_bytes: must be between"},
      {"[scim_server]\n" + tok + "tls_cert = \"/x.pem\"\n", "tls_cert and tls_key go together"},
      {"[engine]\n", "no [scim_server] section"},
      {"[scim_server\n", "syntax error"},
  };
  for (const auto &r : rows) {
    const auto p = t.write("r.toml", r.text);
    const auto msg = load_error(p);
    BOOST_TEST(msg.find(r.expect) != std::string::npos, "config:\n" << r.text << "error: " << msg);
    BOOST_TEST(msg.find(p) == 0u, msg);
  }
}

BOOST_AUTO_TEST_CASE(tokens_file_must_be_private) {
  temp_file t;
  const auto tokens = t.write("tokens.toml", "tokens = [{ token_sha256 = \"" + hash + "\", role = \"hr\", name = \"workday\" }]\n");
  const auto p = t.write("r.toml", "[scim_server]\ntokens_file = \"" + tokens + "\"\n");
  const auto cfg = load_config(p);
  BOOST_TEST_REQUIRE(cfg.tokens.size() == 1u);
  BOOST_TEST((cfg.tokens[0].who == role::hr));
  chmod(tokens.c_str(), 0644);
  BOOST_TEST(load_error(p).find("mode 0600 or 0400") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(engine_only_needs_no_tokens) {
  temp_file t;
  const auto cfg = load_config(t.write("r.toml", "[scim_server]\nenabled = false\nlisten = \"0.0.0.0:1\"\n"));
  BOOST_TEST(!cfg.enabled);
}
