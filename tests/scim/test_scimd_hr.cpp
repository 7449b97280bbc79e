// test_scimd_hr.cpp — POST /hr/v1/workers over HTTP: a Workday termination
// becomes one journal event with reclaimctl ingest's key, posting it again
// records nothing, a DOCTYPE (XXE) document is refused with nothing
// recorded, a wrong Content-Type is 415 and a token without role hr is 403.
#include "scimd_harness.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>

using namespace reclaim::test;

namespace {

const std::string workday_doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<wd:Get_Workers_Response xmlns:wd="urn:com.workday/bsvc">
 <wd:Response_Data><wd:Worker>
  <wd:Worker_Reference><wd:ID wd:type="Employee_ID">21001</wd:ID></wd:Worker_Reference>
  <wd:Worker_Data><wd:Employment_Data><wd:Worker_Status_Data>
   <wd:Active>0</wd:Active><wd:Terminated>1</wd:Terminated><wd:Termination_Date>2027-01-08</wd:Termination_Date>
  </wd:Worker_Status_Data></wd:Employment_Data></wd:Worker_Data>
 </wd:Worker></wd:Response_Data>
</wd:Get_Workers_Response>
)";

const std::string xxe_doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE wd:Get_Workers_Response [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<wd:Get_Workers_Response xmlns:wd="urn:com.workday/bsvc">
 <wd:Response_Data><wd:Worker>
  <wd:Worker_Reference><wd:ID wd:type="Employee_ID">&x;</wd:ID></wd:Worker_Reference>
  <wd:Worker_Data><wd:Employment_Data><wd:Worker_Status_Data>
   <wd:Active>0</wd:Active><wd:Terminated>1</wd:Terminated><wd:Termination_Date>2027-01-08</wd:Termination_Date>
  </wd:Worker_Status_Data></wd:Employment_Data></wd:Worker_Data>
 </wd:Worker></wd:Response_Data>
</wd:Get_Workers_Response>
)";

const std::vector<std::string> xml_type = {"Content-Type: application/xml"};

std::vector<journal_event> hr_events(const scimd_instance &d) {
  std::vector<journal_event> out;
  for (auto &e : d.events())
    if (e.source == "hr") out.push_back(e);
  return out;
}

std::string describe(const http_reply &r) { return std::to_string(r.status) + " " + r.error + " " + r.body; }

} // namespace

BOOST_AUTO_TEST_SUITE(scimd_hr)

BOOST_AUTO_TEST_CASE(workday_termination_is_one_event_posted_twice) {
  scimd_instance d;
  d.start();
  const auto first = d.request("POST", "/hr/v1/workers", workday_doc, hr_token, xml_type);
  BOOST_TEST_REQUIRE(first.status == 200, describe(first));
  const auto body = first.json();
  BOOST_TEST(body["recorded"] == 1);
  BOOST_TEST(body["duplicates"] == 0);
  BOOST_TEST_REQUIRE(body["records"].size() == 1u);
  BOOST_TEST(body["records"][0]["idempotencyKey"] == "hr/21001/terminated/2027-01-08");

  const auto again = d.request("POST", "/hr/v1/workers", workday_doc, hr_token, {"Content-Type: text/xml; charset=utf-8"});
  BOOST_TEST_REQUIRE(again.status == 200, describe(again));
  BOOST_TEST(again.json()["recorded"] == 0);
  BOOST_TEST(again.json()["duplicates"] == 1);

  const auto events = hr_events(d);
  BOOST_TEST_REQUIRE(events.size() == 1u, describe(events));
  BOOST_TEST(events[0].subject_id == "21001");
  BOOST_TEST(events[0].state == "terminated");
  BOOST_TEST(events[0].idempotency_key == "hr/21001/terminated/2027-01-08");
  BOOST_TEST(events[0].actor == "workday");
}

BOOST_AUTO_TEST_CASE(doctype_document_is_refused_and_nothing_recorded) {
  scimd_instance d;
  d.start();
  const auto r = d.request("POST", "/hr/v1/workers", xxe_doc, hr_token, xml_type);
  BOOST_TEST(r.status == 400, describe(r));
  BOOST_TEST(r.body.find("DOCTYPE") != std::string::npos, r.body);
  BOOST_TEST(r.body.find("root:") == std::string::npos, r.body); // /etc/passwd never read
  BOOST_TEST(hr_events(d).empty());
}

BOOST_AUTO_TEST_CASE(wrong_media_type_and_wrong_role_are_refused) {
  scimd_instance d;
  d.start();
  const auto json_type = d.request("POST", "/hr/v1/workers", workday_doc, hr_token, {"Content-Type: application/json"});
  BOOST_TEST(json_type.status == 415, describe(json_type));
  const auto provisioner = d.request("POST", "/hr/v1/workers", workday_doc, provisioner_token, xml_type);
  BOOST_TEST(provisioner.status == 403, describe(provisioner));
  const auto reader = d.request("POST", "/hr/v1/workers", workday_doc, reader_token, xml_type);
  BOOST_TEST(reader.status == 403, describe(reader));
  const auto none = d.request("POST", "/hr/v1/workers", workday_doc, "", xml_type);
  BOOST_TEST(none.status == 401, describe(none));
  BOOST_TEST(hr_events(d).empty());
}

BOOST_AUTO_TEST_CASE(a_file_ingested_by_reclaimctl_and_the_same_document_posted_are_one_event) {
  scimd_instance d; // the test config gives the operator running reclaimctl role hr
  d.start();
  const auto file = d.state_dir().parent_path() / "workday.xml";
  std::ofstream(file) << workday_doc;
  const char *ctl = std::getenv("RECLAIM_TEST_RECLAIMCTL");
  BOOST_TEST_REQUIRE(ctl != nullptr);
  const std::string cmd = std::string(ctl) + " --config " + d.config().string() + " ingest " + file.string() + " >/dev/null";
  BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0, cmd);
  BOOST_TEST_REQUIRE(hr_events(d).size() == 1u);

  const auto posted = d.request("POST", "/hr/v1/workers", workday_doc, hr_token, xml_type);
  BOOST_TEST_REQUIRE(posted.status == 200, describe(posted));
  BOOST_TEST(posted.json()["recorded"] == 0);
  BOOST_TEST(posted.json()["duplicates"] == 1);
  BOOST_TEST(hr_events(d).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
