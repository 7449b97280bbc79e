// test_hr_xml.cpp — HR XML documents → records (scim/hr_xml): a table of
// Workday worker documents (terminate, leave, return, rehire, contract end,
// hire), HR-XML 3 terminations, and every refusal (missing ids, wrong
// namespace, billion laughs, XXE, DTDs, non-UTF-8, huge, deeply nested,
// malformed), each with the words its message must contain.
#include "scim/hr_xml.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace hr = reclaim::hr;

namespace {

std::string workday(const std::string &status, const std::string &ids = "<wd:ID wd:type=\"Employee_ID\">21001</wd:ID>",
                    const std::string &extra = "") {
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<wd:Get_Workers_Response xmlns:wd="urn:com.workday/bsvc" wd:version="v35.0">
 <wd:Response_Data>
  <wd:Worker>
   <wd:Worker_Reference wd:Descriptor="Logan McNeil">
    <wd:ID wd:type="WID">3aa5550b7fe348b98d7b5741afc65534</wd:ID>
    {}
   </wd:Worker_Reference>
   <wd:Worker_Data>
    <wd:Worker_ID>21001</wd:Worker_ID>
    <wd:User_ID>lmcneil</wd:User_ID>
    <wd:Personal_Data><wd:Contact_Data><wd:Email_Address_Data>
      <wd:Email_Address>Logan.McNeil@example.com</wd:Email_Address>
    </wd:Email_Address_Data></wd:Contact_Data></wd:Personal_Data>
    <wd:Employment_Data>
     <wd:Worker_Status_Data>{}</wd:Worker_Status_Data>{}
    </wd:Employment_Data>
   </wd:Worker_Data>
  </wd:Worker>
 </wd:Response_Data>
</wd:Get_Workers_Response>
)",
                     ids, status, extra);
}

const char *const hrxml_termination = R"(<?xml version="1.0" encoding="UTF-8"?>
<SyncIndicativeData xmlns="http://www.hr-xml.org/3" releaseID="3.3">
 <ApplicationArea><CreationDateTime>2026-11-20T09:00:00Z</CreationDateTime><BODID>bod-7781</BODID></ApplicationArea>
 <DataArea>
  <Sync/>
  <IndicativeData>
   <IndicativePersonDossier>
    <IndicativePerson>
     <PersonID schemeID="global">P-553</PersonID>
     <PersonName><FormattedName>Ana Ruiz</FormattedName></PersonName>
     <Communication><ChannelCode>Email</ChannelCode><URI>ana.ruiz@example.com</URI></Communication>
    </IndicativePerson>
    <IndicativeEmployee>
     <EmployeeID>30417</EmployeeID>
     <EmploymentLifecycle>
      <TerminatedIndicator>true</TerminatedIndicator>
      <Termination>
       <TerminationDate>2026-12-15</TerminationDate>
       <LastWorkedDate>2026-12-12</LastWorkedDate>
       <TerminationReasonCode>RESIGN</TerminationReasonCode>
      </Termination>
     </EmploymentLifecycle>
    </IndicativeEmployee>
   </IndicativePersonDossier>
  </IndicativeData>
 </DataArea>
</SyncIndicativeData>
)";

int64_t utc_ms(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days{year{y} / month{m} / day{d}}.time_since_epoch()).count();
}

struct accepted_case {
  const char *name;
  std::string doc;
  reclaim_state state;
  const char *kind;
  int64_t effective_ms;
  const char *worker_id;
};

struct refused_case {
  const char *name;
  std::string doc;
  const char *message; // a fragment the error must contain
};

std::string without(std::string s, const std::string &from, const std::string &to) {
  const auto b = s.find(from);
  const auto e = s.find(to, b);
  return s.erase(b, e + to.size() - b);
}

std::string nested(int levels) {
  std::string s = "<?xml version=\"1.0\"?><wd:Worker xmlns:wd=\"urn:com.workday/bsvc\">";
  for (int i = 0; i < levels; ++i) s += "<wd:a>";
  for (int i = 0; i < levels; ++i) s += "</wd:a>";
  return s + "</wd:Worker>";
}

} // namespace

BOOST_AUTO_TEST_SUITE(hr_xml)

BOOST_AUTO_TEST_CASE(documents_become_records) {
  const std::vector<accepted_case> cases = {
      {"workday terminate",
       workday("<wd:Active>0</wd:Active><wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>"
               "<wd:Primary_Termination_Reason_Reference><wd:ID wd:type=\"Termination_Subcategory_ID\">TERMINATE_RESIGN"
               "</wd:ID></wd:Primary_Termination_Reason_Reference>"),
       RECLAIM_STATE_TERMINATED, "terminated", utc_ms(2026, 12, 1), "21001"},
      {"workday terminate, date with offset",
       workday("<wd:Terminated>true</wd:Terminated><wd:Termination_Date>2026-11-30-08:00</wd:Termination_Date>"),
       RECLAIM_STATE_TERMINATED, "terminated", utc_ms(2026, 12, 1) + 8 * 3600000, "21001"},
      {"workday leave",
       workday("<wd:Active>1</wd:Active><wd:Leave_Status_Data><wd:On_Leave>1</wd:On_Leave>"
               "<wd:Leave_Start_Date>2026-10-01</wd:Leave_Start_Date></wd:Leave_Status_Data>"),
       RECLAIM_STATE_LEAVE, "leave", utc_ms(2026, 10, 1), "21001"},
      {"workday return from leave",
       workday("<wd:Active>1</wd:Active><wd:Leave_Status_Data><wd:On_Leave>0</wd:On_Leave>"
               "<wd:Leave_Start_Date>2026-06-01</wd:Leave_Start_Date><wd:Leave_End_Date>2026-09-30</wd:Leave_End_Date>"
               "</wd:Leave_Status_Data>"),
       RECLAIM_STATE_REACTIVATED, "return", utc_ms(2026, 10, 1), "21001"},
      {"workday rehire",
       workday("<wd:Active>1</wd:Active><wd:Hire_Date>2026-03-02</wd:Hire_Date><wd:Rehire>1</wd:Rehire>"),
       RECLAIM_STATE_REACTIVATED, "rehire", utc_ms(2026, 3, 2), "21001"},
      {"workday contract end",
       workday("<wd:Active>1</wd:Active><wd:Hire_Date>2026-01-05</wd:Hire_Date>",
               "<wd:ID wd:type=\"Contingent_Worker_ID\">C-88</wd:ID>",
               "<wd:Worker_Contract_Data><wd:Contract_End_Date>2027-01-31</wd:Contract_End_Date></wd:Worker_Contract_Data>"),
       RECLAIM_STATE_CONTRACT_ENDED, "contract_end", utc_ms(2027, 2, 1), "C-88"},
      {"workday hire", workday("<wd:Active>1</wd:Active><wd:Hire_Date>2026-01-05T00:00:00.000Z</wd:Hire_Date>"),
       RECLAIM_STATE_ACTIVE, "hire", utc_ms(2026, 1, 5), "21001"},
      {"workday without Employee_ID: Worker_ID", workday("<wd:Terminated>1</wd:Terminated>"
                                                          "<wd:Termination_Date>2026-11-30</wd:Termination_Date>", ""),
       RECLAIM_STATE_TERMINATED, "terminated", utc_ms(2026, 12, 1), "21001"},
      {"workday in a SOAP envelope",
       "<env:Envelope xmlns:env=\"http://schemas.xmlsoap.org/soap/envelope/\"><env:Body>" +
           workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>")
               .substr(std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").size()) +
           "</env:Body></env:Envelope>",
       RECLAIM_STATE_TERMINATED, "terminated", utc_ms(2026, 12, 1), "21001"},
      {"hr-xml termination", hrxml_termination, RECLAIM_STATE_TERMINATED, "terminated", utc_ms(2026, 12, 16), "30417"},
  };
  const hr::hr_config cfg;
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      std::vector<hr::hr_record> out;
      BOOST_REQUIRE_NO_THROW(out = hr::parse(c.doc, cfg, "sha256:doc"));
      BOOST_TEST_REQUIRE(out.size() == 1u);
      BOOST_TEST(out[0].state == c.state);
      BOOST_TEST(out[0].kind == c.kind);
      BOOST_TEST(out[0].effective_ms == c.effective_ms);
      BOOST_TEST(out[0].worker_id == c.worker_id);
      BOOST_TEST(out[0].key.find(c.worker_id) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(records_carry_ids_as_configured_attributes) {
  const hr::hr_config cfg;
  const auto wd = hr::parse(workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>"),
                            cfg, "sha256:a");
  BOOST_TEST_REQUIRE(wd.size() == 1u);
  BOOST_TEST(wd[0].attributes.at("employeeNumber") == std::vector<std::string>{"21001"});
  BOOST_TEST(wd[0].attributes.at("mail") == std::vector<std::string>{"Logan.McNeil@example.com"});
  BOOST_TEST(wd[0].attributes.at("uid") == std::vector<std::string>{"lmcneil"});
  BOOST_TEST(wd[0].attributes.at("WID") == std::vector<std::string>{"3aa5550b7fe348b98d7b5741afc65534"});
  BOOST_TEST(wd[0].name == "Logan McNeil");
  BOOST_TEST(wd[0].document_id == "sha256:a");
  const auto x = hr::parse(hrxml_termination, cfg, "sha256:b");
  BOOST_TEST_REQUIRE(x.size() == 1u);
  BOOST_TEST(x[0].document_id == "bod-7781"); // the BOD's own id
  BOOST_TEST(x[0].attributes.at("mail") == std::vector<std::string>{"ana.ruiz@example.com"});
  BOOST_TEST(x[0].attributes.at("hrReason") == std::vector<std::string>{"RESIGN"});
  BOOST_TEST(x[0].name == "Ana Ruiz");
}

BOOST_AUTO_TEST_CASE(the_key_is_the_same_whichever_export_brings_it) {
  const hr::hr_config cfg;
  const auto doc = workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>");
  BOOST_TEST(hr::parse(doc, cfg, "sha256:monday")[0].key == hr::parse(doc, cfg, "sha256:tuesday")[0].key);
  const auto moved = workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-12-31</wd:Termination_Date>");
  BOOST_TEST(hr::parse(doc, cfg, "x")[0].key != hr::parse(moved, cfg, "x")[0].key);
}

BOOST_AUTO_TEST_CASE(mapping_is_configuration) {
  hr::hr_config cfg;
  cfg.termination_reasons["TERMINATE_CONTRACT"] = RECLAIM_STATE_CONTRACT_ENDED;
  cfg.states["hire"] = RECLAIM_STATE_NONE; // not journalled
  cfg.subject_ids = {"User_ID"};
  const auto t = hr::parse(workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>"
                                   "<wd:Primary_Termination_Reason_Reference><wd:ID wd:type=\"x\">TERMINATE_CONTRACT</wd:ID>"
                                   "</wd:Primary_Termination_Reason_Reference>"),
                           cfg, "d");
  BOOST_TEST_REQUIRE(t.size() == 1u);
  BOOST_TEST(t[0].state == RECLAIM_STATE_CONTRACT_ENDED);
  BOOST_TEST(t[0].worker_id == "lmcneil");
  BOOST_TEST(hr::parse(workday("<wd:Active>1</wd:Active><wd:Hire_Date>2026-01-05</wd:Hire_Date>"), cfg, "d").empty());
}

BOOST_AUTO_TEST_CASE(bad_documents_are_refused_with_a_clear_message) {
  const std::string laughs = R"(<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<wd:Worker xmlns:wd="urn:com.workday/bsvc"><wd:Worker_ID>&lol4;</wd:Worker_ID></wd:Worker>)";
  const std::string xxe = R"(<?xml version="1.0"?>
<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<wd:Worker xmlns:wd="urn:com.workday/bsvc"><wd:Worker_Data><wd:Worker_ID>&xxe;</wd:Worker_ID></wd:Worker_Data></wd:Worker>)";
  const std::string dtd = R"(<?xml version="1.0"?>
<!DOCTYPE wd:Worker SYSTEM "http://127.0.0.1:9/worker.dtd">
<wd:Worker xmlns:wd="urn:com.workday/bsvc"/>)";
  std::string latin1 = workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>");
  latin1.replace(latin1.find("encoding=\"UTF-8\""), 16, "encoding=\"ISO-8859-1\"");
  latin1.replace(latin1.find("Logan McNeil"), 5, "Lo\xe9n");
  std::string declared_latin1 = workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>");
  declared_latin1.replace(declared_latin1.find("encoding=\"UTF-8\""), 16, "encoding=\"ISO-8859-1\"");
  const std::string utf16("\xff\xfe<\0?\0x\0m\0l\0", 12);
  const std::vector<refused_case> cases = {
      {"billion laughs", laughs, "DOCTYPE"},
      {"XXE SYSTEM file:///etc/passwd", xxe, "DOCTYPE"},
      {"external DTD", dtd, "DOCTYPE"},
      {"non-UTF-8 bytes", latin1, "not UTF-8"},
      {"declared ISO-8859-1", declared_latin1, "only UTF-8"},
      {"UTF-16", utf16, "not UTF-8"},
      {"huge", std::string(17u << 20, ' '), "more than the limit"},
      {"deeply nested", nested(100), "nested deeper than 64"},
      {"very deeply nested", nested(100000), "not well-formed"},
      {"malformed", "<?xml version=\"1.0\"?>\n<wd:Worker xmlns:wd=\"urn:com.workday/bsvc\">\n<wd:Worker_Data></wd:Worker>",
       "line 3"},
      {"empty", "", "empty"},
      {"missing ids",
       without(workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>", ""),
               "<wd:Worker_ID>", "</wd:Worker_ID>"),
       "no worker id"},
      {"wrong namespace",
       "<Get_Workers_Response xmlns=\"urn:com.example/other\"><Worker><Worker_Data/></Worker></Get_Workers_Response>",
       "not Workday's urn:com.workday/bsvc"},
      {"no namespace", "<Worker><Worker_Data/></Worker>", "not Workday's"},
      {"neither format", "<html xmlns=\"http://www.w3.org/1999/xhtml\"/>", "holds no wd:Worker"},
      {"terminated without a date", workday("<wd:Terminated>1</wd:Terminated>"), "Termination_Date is missing"},
      {"bad boolean", workday("<wd:Terminated>yes</wd:Terminated>"), "wd:Terminated (line"},
      {"bad date", workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>30.11.2026</wd:Termination_Date>"),
       "is not an xs:date"},
      {"date past 9999", workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>9999-12-31</wd:Termination_Date>"),
       "is not an xs:date"},
      {"no status", without(workday(""), "<wd:Worker_Status_Data>", "</wd:Worker_Status_Data>"), "no Worker_Status_Data"},
      {"hr-xml without lifecycle",
       without(hrxml_termination, "<EmploymentLifecycle>", "</EmploymentLifecycle>"),
       "no EmploymentLifecycle"},
  };
  const hr::hr_config cfg;
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      try {
        hr::parse(c.doc, cfg, "d");
        BOOST_ERROR("accepted");
      } catch (const hr::parse_error &e) {
        BOOST_TEST(std::string(e.what()).find(c.message) != std::string::npos, "message: " << e.what());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(too_many_workers_are_refused) {
  hr::hr_config cfg;
  cfg.max_workers = 1;
  std::string two = workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>");
  const auto start = two.find("<wd:Worker>"), end = two.find("</wd:Worker>") + 12;
  two.insert(end, two.substr(start, end - start));
  BOOST_CHECK_EXCEPTION(hr::parse(two, cfg, "d"), hr::parse_error, [](const hr::parse_error &e) {
    return std::string(e.what()).find("2 workers") != std::string::npos;
  });
  cfg.max_workers = 2;
  BOOST_TEST(hr::parse(two, cfg, "d").size() == 2u);
}

// Errors are collected per parser context: threads parsing good and bad
// documents at once each get their own result and message.
BOOST_AUTO_TEST_CASE(threads_parse_at_once) {
  const hr::hr_config cfg;
  const auto good = workday("<wd:Terminated>1</wd:Terminated><wd:Termination_Date>2026-11-30</wd:Termination_Date>");
  const std::string bad = "<?xml version=\"1.0\"?>\n<wd:Worker xmlns:wd=\"urn:com.workday/bsvc\">\n\n<x></wd:Worker>";
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < wrong.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        try {
          if (hr::parse(good, cfg, "d").size() != 1u) ++wrong[t];
        } catch (...) {
          ++wrong[t];
        }
        try {
          hr::parse(bad, cfg, "d");
          ++wrong[t];
        } catch (const hr::parse_error &e) {
          if (std::string(e.what()).find("line 4") == std::string::npos) ++wrong[t];
        }
      }
    });
  for (auto &th : threads) th.join();
  for (const int w : wrong) BOOST_TEST(w == 0);
}

BOOST_AUTO_TEST_SUITE_END()
