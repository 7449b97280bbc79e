// test_hr_ingest.cpp — `reclaimctl ingest` run as a program: good files are
// journalled (a Workday termination joins the directory's person through
// person_keys), a refused file records nothing and does not stop the others
// (exit 1), ingesting again records nothing new, every file is audited and
// the signed log verifies, and an operator without role hr is refused.
#include "config/config.hpp"
#include "process.hpp"
#include "store/journal.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <pwd.h>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using reclaim::unit::temp_dir;

namespace {

const char *const workday_doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<wd:Get_Workers_Response xmlns:wd="urn:com.workday/bsvc">
 <wd:Response_Data><wd:Worker>
  <wd:Worker_Reference><wd:ID wd:type="Employee_ID">21001</wd:ID></wd:Worker_Reference>
  <wd:Worker_Data><wd:Employment_Data><wd:Worker_Status_Data>
   <wd:Active>0</wd:Active><wd:Terminated>1</wd:Terminated><wd:Termination_Date>2027-01-08</wd:Termination_Date>
  </wd:Worker_Status_Data></wd:Employment_Data></wd:Worker_Data>
 </wd:Worker></wd:Response_Data>
</wd:Get_Workers_Response>
)";

const char *const hrxml_doc = R"(<?xml version="1.0"?>
<SyncIndicativeData xmlns="http://www.hr-xml.org/3"><ApplicationArea><BODID>bod-1</BODID></ApplicationArea>
 <DataArea><IndicativeData><IndicativePersonDossier>
  <IndicativeEmployee><EmployeeID>30417</EmployeeID><EmploymentLifecycle>
   <TerminatedIndicator>true</TerminatedIndicator><Termination><TerminationDate>2027-01-09</TerminationDate></Termination>
  </EmploymentLifecycle></IndicativeEmployee>
 </IndicativePersonDossier></IndicativeData></DataArea>
</SyncIndicativeData>
)";

const char *const xxe_doc = R"(<?xml version="1.0"?>
<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<wd:Worker xmlns:wd="urn:com.workday/bsvc"><wd:Worker_Data><wd:Worker_ID>&xxe;</wd:Worker_ID></wd:Worker_Data></wd:Worker>
)";

std::string me() {
  const passwd *pw = ::getpwuid(::getuid());
  return pw != nullptr ? pw->pw_name : "root";
}

struct world {
  temp_dir dir;
  fs::path config_path = dir / "reclaim.toml";
  reclaim::config cfg;

  explicit world(const std::string &hr_members) {
    const auto pem = dir / "audit.pem";
    EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    FILE *f = std::fopen(pem.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(k);
    fs::permissions(pem, fs::perms::owner_read | fs::perms::owner_write);
    reclaim::unit::write_file(dir / "pseudo.key", std::string(40, 'k'), 0600u);
    const auto text = fmt::format(
        "[engine]\nstate_dir = \"{}\"\nperson_keys = [\"employeeNumber\"]\n{}\n"
        "[audit]\norigin = \"unit.example/audit\"\nkey_file = \"{}\"\npseudonym_key_file = \"{}\"\n"
        "[access.person.hrbot]\nunix_users = [\"{}\"]\n[access.person.other]\nunix_users = [\"nobody\"]\n"
        "[access.roles]\nhr = [{}]\nprivacy = [\"hrbot\"]\n",
        (dir / "state").string(), reclaim::unit::ldap_section, pem.string(), (dir / "pseudo.key").string(), me(),
        hr_members);
    reclaim::unit::write_file(config_path, text, 0600u);
    cfg = reclaim::load_config(config_path);
    reclaim::unit::write_file(dir / "workday.xml", workday_doc);
    reclaim::unit::write_file(dir / "hrxml.xml", hrxml_doc);
    reclaim::unit::write_file(dir / "xxe.xml", xxe_doc);
  }

  reclaim::test::process_result ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {RECLAIMCTL_PATH, "-c", config_path.string()});
    return reclaim::test::run_process(args, std::chrono::seconds(60));
  }

  std::vector<reclaim::event_record> events() const { return reclaim::read_events(cfg.journal_path(), {}); }
};

std::string slurp(const fs::path &p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(hr_ingest)

BOOST_AUTO_TEST_CASE(files_are_journalled_once_and_a_bad_one_stops_nothing) {
  world w("\"hrbot\"");
  { // the directory knows employee 21001 as entry uuid-1
    reclaim::journal j(w.cfg.journal_path(), reclaim::sqlite::durability::full);
    reclaim::event_record ev;
    ev.idempotency_key = "uuid-1/csn1";
    ev.subject_id = "uuid-1";
    ev.source = "ldap";
    ev.current = reclaim::state::active;
    ev.time = ev.recorded = reclaim::now();
    ev.attributes_json = R"({"employeeNumber":["21001"]})";
    j.join_people(w.cfg.engine.person_keys);
    BOOST_TEST_REQUIRE(j.append(ev));
  }
  const auto first = w.ctl({"ingest", (w.dir / "workday.xml").string(), (w.dir / "xxe.xml").string(),
                            (w.dir / "missing.xml").string(), (w.dir / "hrxml.xml").string()});
  BOOST_TEST(first.exit_code == 1, first.output());
  BOOST_TEST(first.err.find("xxe.xml: refused, nothing recorded: a DOCTYPE") != std::string::npos, first.err);
  BOOST_TEST(first.err.find("missing.xml: refused, nothing recorded: cannot open") != std::string::npos, first.err);
  BOOST_TEST(first.out.find("workday.xml: 1 workers with a status, 1 recorded, 0 already") != std::string::npos, first.out);
  BOOST_TEST(first.out.find("hrxml.xml: 1 workers with a status, 1 recorded, 0 already journalled (document bod-1)") !=
                 std::string::npos,
             first.out);
  auto events = w.events();
  BOOST_TEST_REQUIRE(events.size() == 3u);
  std::map<std::string, reclaim::event_record> by_key;
  for (const auto &e : events) by_key[e.idempotency_key] = e;
  const auto &term = by_key.at("hr/21001/terminated/2027-01-08");
  BOOST_TEST(term.subject_id == "uuid-1"); // joined to the directory's person
  BOOST_TEST(term.source == "hr");
  BOOST_TEST(term.current == reclaim::state::terminated);
  BOOST_TEST(term.actor == "person:hrbot");
  BOOST_TEST(reclaim::format_utc(term.time) == "2027-01-09T00:00:00.000Z");
  BOOST_TEST(by_key.at("hr/30417/terminated/2027-01-09").subject_id == "30417");

  const auto again = w.ctl({"ingest", (w.dir / "workday.xml").string(), (w.dir / "hrxml.xml").string()});
  BOOST_TEST(again.exit_code == 0, again.output());
  BOOST_TEST(again.out.find("workday.xml: 1 workers with a status, 0 recorded, 1 already") != std::string::npos, again.out);
  BOOST_TEST(w.events().size() == 3u);
  const auto as_json = w.ctl({"ingest", "--json", (w.dir / "hrxml.xml").string(), (w.dir / "xxe.xml").string()});
  BOOST_TEST(as_json.exit_code == 1, as_json.output());
  const auto report = nlohmann::json::parse(as_json.out);
  BOOST_TEST_REQUIRE(report.size() == 2u);
  BOOST_TEST(report[0].at("already") == 1);
  BOOST_TEST(report[0].at("document") == "bod-1");
  BOOST_TEST(report[1].at("ok") == false);
  BOOST_TEST(report[1].at("error").get<std::string>().find("DOCTYPE") != std::string::npos);

  const auto log = slurp(w.cfg.audit.path);
  BOOST_TEST(log.find("\"hr_ingested\"") != std::string::npos);
  BOOST_TEST(log.find("\"hr_refused\"") != std::string::npos);
  const auto key = w.ctl({"audit", "public-key"});
  BOOST_TEST_REQUIRE(key.exit_code == 0, key.output());
  auto vkey = key.out.substr(0, key.out.find('\n'));
  const auto verify = w.ctl({"audit", "verify", "--key", vkey});
  BOOST_TEST(verify.exit_code == 0, verify.output());

  // Erasing the person erases the key values that joined them.
  const auto forget = w.ctl({"audit", "forget", "uuid-1"});
  BOOST_TEST(forget.exit_code == 0, forget.output());
  reclaim::journal j(w.cfg.journal_path(), reclaim::sqlite::durability::normal);
  auto st = j.db().prepare("SELECT count(*) FROM person_keys WHERE key LIKE '%21001%' OR subject_id = 'uuid-1'");
  BOOST_TEST((st.step() && st.integer(0) == 0));
}

BOOST_AUTO_TEST_CASE(an_operator_without_role_hr_is_refused) {
  world w("\"other\"");
  const auto r = w.ctl({"ingest", (w.dir / "workday.xml").string()});
  BOOST_TEST(r.exit_code == 77, r.output());
  BOOST_TEST(r.err.find("needs role \"hr\"") != std::string::npos, r.err);
  reclaim::journal j(w.cfg.journal_path(), reclaim::sqlite::durability::normal);
  BOOST_TEST(j.event_count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hr_config)

BOOST_AUTO_TEST_CASE(hr_section_overrides_defaults_and_refuses_mistakes) {
  temp_dir dir;
  const auto base = reclaim::unit::config_text(dir);
  const auto cfg = reclaim::unit::load_toml(
      dir, "[engine]\nstate_dir = \"" + (dir / "state").string() +
               "\"\nperson_keys = [\"employeeNumber\", \"mail\"]\n" + reclaim::unit::ldap_section +
               "\n[hr]\nsubject_ids = [\"User_ID\"]\nmax_depth = 32\n[hr.id_attributes]\nUser_ID = \"uid2\"\n"
               "[hr.states]\nhire = \"none\"\n[hr.termination_reasons]\nTERMINATE_CONTRACT = \"contract_ended\"\n");
  BOOST_TEST(cfg.engine.person_keys == (std::vector<std::string>{"employeeNumber", "mail"}));
  BOOST_TEST(cfg.hr.subject_ids == std::vector<std::string>{"User_ID"});
  BOOST_TEST(cfg.hr.max_depth == 32u);
  BOOST_TEST(cfg.hr.max_bytes == (16u << 20)); // default kept
  BOOST_TEST(cfg.hr.id_attributes.at("User_ID") == "uid2");
  BOOST_TEST(cfg.hr.id_attributes.at("Employee_ID") == "employeeNumber"); // default kept
  BOOST_TEST(cfg.hr.states.at("hire") == RECLAIM_STATE_NONE);
  BOOST_TEST(cfg.hr.states.at("terminated") == RECLAIM_STATE_TERMINATED);
  BOOST_TEST(cfg.hr.termination_reasons.at("TERMINATE_CONTRACT") == RECLAIM_STATE_CONTRACT_ENDED);
  // person_keys are read from directory entries too.
  const auto &needed = cfg.ldap.needed;
  BOOST_TEST((std::find(needed.begin(), needed.end(), "employeeNumber") != needed.end()));

  const std::pair<const char *, const char *> bad[] = {
      {"[hr]\nsubject_id = [\"x\"]\n", "hr.subject_id: unknown key"},
      {"[hr.states]\nfired = \"terminated\"\n", "hr.states.fired: unknown HR event"},
      {"[hr.states]\nleave = \"away\"\n", "hr.states.leave: unknown or unusable state \"away\""},
      {"[hr]\nmax_depth = 0\n", "hr.max_depth: must be between 1 and 256"},
      {"[hr]\nsubject_ids = []\n", "hr.subject_ids: must name at least one id type"},
      {"[hr.id_attributes]\nEmail = \"\"\n", "hr.id_attributes.Email: must not be empty"},
  };
  for (const auto &[text, message] : bad) {
    BOOST_TEST_CONTEXT(text) {
      try {
        reclaim::unit::load_toml(dir, base + "\n" + text);
        BOOST_ERROR("accepted");
      } catch (const reclaim::config_error &e) {
        BOOST_TEST(std::string(e.what()).find(message) != std::string::npos, e.what());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
