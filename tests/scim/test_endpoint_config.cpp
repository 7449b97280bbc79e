// test_endpoint_config.cpp — [hr] and [scim_server.saml] as reclaim-scimd
// reads them: values override the defaults, and every refusal names
// file:line:column and the key.
#include "hr_endpoint.hpp"
#include "saml_endpoint.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace reclaim::scimd;

namespace {

struct toml_file {
  std::filesystem::path dir;
  toml_file() {
    char tmpl[] = "/tmp/scimd-endpoint-config-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~toml_file() { std::filesystem::remove_all(dir); }
  std::string write(const std::string &text) const {
    const auto p = (dir / "reclaim.toml").string();
    std::ofstream(p) << text;
    return p;
  }
};

template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const config_error &e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(endpoint_config)

BOOST_AUTO_TEST_CASE(hr_section_overrides_defaults) {
  toml_file f;
  const auto cfg = load_hr_config(f.write("[hr]\nsubject_ids = [\"User_ID\"]\nmax_bytes = 4096\n"
                                          "[hr.states]\nhire = \"none\"\n"
                                          "[hr.termination_reasons]\nEND = \"contract_ended\"\n"
                                          "[hr.id_attributes]\nUser_ID = \"login\"\n"));
  BOOST_TEST(cfg.subject_ids == std::vector<std::string>{"User_ID"});
  BOOST_TEST(cfg.max_bytes == 4096u);
  BOOST_TEST(cfg.states.at("hire") == RECLAIM_STATE_NONE);
  BOOST_TEST(cfg.states.at("terminated") == RECLAIM_STATE_TERMINATED); // default kept
  BOOST_TEST(cfg.termination_reasons.at("END") == RECLAIM_STATE_CONTRACT_ENDED);
  BOOST_TEST(cfg.id_attributes.at("User_ID") == "login");
  BOOST_TEST(cfg.id_attributes.at("Email") == "mail");
  const auto none = load_hr_config(f.write("[engine]\n"));
  BOOST_TEST(none.subject_ids.size() == 5u);
}

BOOST_AUTO_TEST_CASE(hr_refusals_name_line_and_key) {
  toml_file f;
  const auto p = f.write("[hr]\n[hr.states]\nfired = \"terminated\"\n");
  BOOST_TEST(error_of([&] { load_hr_config(p); }) == p + ":3:1: hr.states.fired: unknown HR event (expected one of: "
                                                          "terminated, leave, return, hire, rehire, contract_end)");
  const auto q = f.write("[hr]\nmax_depth = 1000\n");
  BOOST_TEST(error_of([&] { load_hr_config(q); }).find(q + ":2:13: hr.max_depth: must be between 1 and 256") == 0u);
  const auto r = f.write("[hr]\nstates = { leave = \"away\" }\n");
  BOOST_TEST(error_of([&] { load_hr_config(r); }).find("hr.states.leave: must be a state name") != std::string::npos);
  const auto s = f.write("[hr]\nsubject_id = [\"x\"]\n");
  BOOST_TEST(error_of([&] { load_hr_config(s); }) == s + ":2:1: hr.subject_id: unknown key");
}

BOOST_AUTO_TEST_CASE(saml_section_is_read_and_checked) {
  toml_file f;
  const std::string base = "[scim_server.saml]\ndestination = \"https://sp/saml\"\nidp_metadata = \"/etc/md.xml\"\n"
                           "sp_entity_id = \"https://sp\"\n";
  const auto s = load_saml_settings(f.write(base + "subject = \"externalId\"\nmax_skew_seconds = 60\n"));
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->path == "/saml/nameid");
  BOOST_TEST(s->subject == "externalId");
  BOOST_TEST(s->endpoint.max_skew.count() == 60);
  BOOST_TEST(s->endpoint.terminate_state == "terminated");
  BOOST_TEST(!load_saml_settings(f.write("[scim_server]\n")).has_value());
  BOOST_TEST(!load_saml_settings(f.write(base + "enabled = false\n")).has_value());

  const auto unknown = f.write(base + "token = \"x\"\n");
  BOOST_TEST(error_of([&] { load_saml_settings(unknown); }) == unknown + ":5:1: scim_server.saml.token: unknown key");
  const auto missing = f.write("[scim_server.saml]\nidp_metadata = \"/etc/md.xml\"\nsp_entity_id = \"x\"\n");
  BOOST_TEST(error_of([&] { load_saml_settings(missing); }).find("scim_server.saml.destination: is required") !=
             std::string::npos);
  const auto bad_path = f.write(base + "path = \"/scim/v2/Users\"\n");
  BOOST_TEST(error_of([&] { load_saml_settings(bad_path); }).find("scim_server.saml.path") != std::string::npos);
  const auto bad_state = f.write(base + "terminate_state = \"active\"\n");
  BOOST_TEST(error_of([&] { load_saml_settings(bad_state); }).find("terminate_state: must be") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
