// test_scimd_saml.cpp — the SAML ManageNameIDRequest endpoint over HTTP: an
// IdP key and certificate made at test time by the openssl CLI, requests
// signed at test time by the xmlsec1 CLI (an independent signer). A signed
// Terminate (SOAP or HTTP-POST) journals one event and answers Success; an
// unsigned one is refused; a replayed ID is refused, also after a restart.
#include "scimd_harness.hpp"

#include <boost/test/unit_test.hpp>
#include <curl/curl.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace reclaim::test;
namespace fs = std::filesystem;

namespace {

const std::string idp_entity = "https://idp.example.org/saml";
const std::string destination = "https://sp.example.org/saml/nameid";
const std::string sp_entity = "https://sp.example.org/saml";

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void run(const std::string &cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

std::string now_instant() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// An IdP: key, certificate, metadata; signs requests with xmlsec1.
struct idp {
  temp_dir dir{"reclaim-saml-idp-"};
  fs::path key, cert, metadata;
  idp() {
    key = dir.path() / "idp.key";
    cert = dir.path() / "idp.crt";
    metadata = dir.path() / "idp-metadata.xml";
    run(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=idp -keyout {} -out {} 2>/dev/null",
                    key.string(), cert.string()));
    std::string b64;
    std::istringstream in(slurp(cert));
    for (std::string line; std::getline(in, line);)
      if (line.rfind("-----", 0) != 0) b64 += line;
    std::ofstream(metadata) << fmt::format(
        R"(<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
</md:IDPSSODescriptor></md:EntityDescriptor>)",
        idp_entity, b64);
  }

  std::string request(const std::string &id, const std::string &name_id, bool sign = true) const {
    const std::string sig =
        sign ? R"(<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#)" +
                   id +
                   R"("><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>)"
             : "";
    const std::string xml = fmt::format(
        R"(<samlp:ManageNameIDRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="{}" Destination="{}"><saml:Issuer>{}</saml:Issuer>{}<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{}</saml:NameID><samlp:Terminate/></samlp:ManageNameIDRequest>)",
        id, now_instant(), destination, idp_entity, sig, name_id);
    if (!sign) return xml;
    const auto in = dir.path() / (id + ".tmpl.xml"), out = dir.path() / (id + ".xml");
    std::ofstream(in) << xml;
    run(fmt::format("xmlsec1 --sign --privkey-pem {} --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:ManageNameIDRequest "
                    "--output {} {} 2>/dev/null",
                    key.string(), out.string(), in.string()));
    std::string signed_xml = slurp(out);
    if (signed_xml.rfind("<?xml", 0) == 0) signed_xml.erase(0, signed_xml.find('\n') + 1);
    return signed_xml;
  }
};

std::string soap(const std::string &request) {
  return R"(<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>)" +
         request + "</SOAP-ENV:Body></SOAP-ENV:Envelope>";
}

std::string form_post(const std::string &request) {
  std::string b64;
  {
    temp_dir d{"reclaim-saml-b64-"};
    std::ofstream(d.path() / "r.xml", std::ios::binary) << request;
    run(fmt::format("openssl base64 -A -in {} -out {}", (d.path() / "r.xml").string(), (d.path() / "r.b64").string()));
    b64 = slurp(d.path() / "r.b64");
  }
  char *e = curl_easy_escape(nullptr, b64.c_str(), static_cast<int>(b64.size()));
  std::string out = "SAMLRequest=" + std::string(e) + "&RelayState=x";
  curl_free(e);
  return out;
}

std::string saml_section(const idp &i) {
  return fmt::format("[scim_server.saml]\npath = \"/saml/nameid\"\ndestination = \"{}\"\nidp_metadata = \"{}\"\n"
                     "sp_entity_id = \"{}\"\nmax_skew_seconds = 300\n",
                     destination, i.metadata.string(), sp_entity);
}

std::vector<journal_event> saml_events(const scimd_instance &d) {
  std::vector<journal_event> out;
  for (auto &e : d.events())
    if (e.source == "saml") out.push_back(e);
  return out;
}

const std::vector<std::string> soap_type = {"Content-Type: text/xml; charset=utf-8", "SOAPAction: \"\""};
const std::vector<std::string> form_type = {"Content-Type: application/x-www-form-urlencoded"};

std::string describe(const http_reply &r) { return std::to_string(r.status) + " " + r.error + " " + r.body; }

} // namespace

BOOST_AUTO_TEST_SUITE(scimd_saml)

BOOST_AUTO_TEST_CASE(signed_soap_terminate_is_recorded_once_even_after_restart) {
  idp i;
  scimd_instance d(saml_section(i));
  d.start();
  const std::string msg = soap(i.request("_req-soap-1", "alice@example.org"));
  const auto r = d.request("POST", "/saml/nameid", msg, "", soap_type); // no bearer token
  BOOST_TEST_REQUIRE(r.status == 200, describe(r) + d.log());
  BOOST_TEST(r.body.find("ManageNameIDResponse") != std::string::npos, r.body);
  BOOST_TEST(r.body.find("urn:oasis:names:tc:SAML:2.0:status:Success") != std::string::npos, r.body);
  BOOST_TEST(r.body.find("Envelope") != std::string::npos, r.body);
  BOOST_TEST(r.body.find("InResponseTo=\"_req-soap-1\"") != std::string::npos, r.body);
  auto events = saml_events(d);
  BOOST_TEST_REQUIRE(events.size() == 1u, describe(events));
  BOOST_TEST(events[0].subject_id == "alice@example.org");
  BOOST_TEST(events[0].state == "terminated");
  BOOST_TEST(events[0].idempotency_key == "saml/" + idp_entity + "/_req-soap-1");

  const auto replay = d.request("POST", "/saml/nameid", msg, "", soap_type);
  BOOST_TEST(replay.status == 403, describe(replay));
  BOOST_TEST(replay.body.find("replayed") != std::string::npos, replay.body);
  BOOST_TEST(d.log().find("replayed") != std::string::npos);

  BOOST_TEST_REQUIRE(d.stop_term() == 0);
  d.start();
  const auto after = d.request("POST", "/saml/nameid", msg, "", soap_type);
  BOOST_TEST(after.status == 403, describe(after));
  BOOST_TEST(after.body.find("replayed") != std::string::npos, after.body);
  BOOST_TEST(saml_events(d).size() == 1u);
}

BOOST_AUTO_TEST_CASE(signed_http_post_terminate_is_recorded) {
  idp i;
  scimd_instance d(saml_section(i));
  d.start();
  const auto r = d.request("POST", "/saml/nameid", form_post(i.request("_req-post-1", "bob@example.org")), "", form_type);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r) + d.log());
  BOOST_TEST(r.body.find("urn:oasis:names:tc:SAML:2.0:status:Success") != std::string::npos, r.body);
  BOOST_TEST(r.body.find("Envelope") == std::string::npos, r.body); // bare for HTTP-POST
  const auto events = saml_events(d);
  BOOST_TEST_REQUIRE(events.size() == 1u, describe(events));
  BOOST_TEST(events[0].subject_id == "bob@example.org");
}

BOOST_AUTO_TEST_CASE(unsigned_and_tampered_requests_are_refused) {
  idp i;
  scimd_instance d(saml_section(i));
  d.start();
  const auto unsigned_r = d.request("POST", "/saml/nameid", soap(i.request("_req-u", "carol@example.org", false)), "",
                                    soap_type);
  BOOST_TEST(unsigned_r.status == 403, describe(unsigned_r));
  BOOST_TEST(unsigned_r.body.find("(unsigned)") != std::string::npos, unsigned_r.body);
  BOOST_TEST(unsigned_r.body.find("<") == std::string::npos, unsigned_r.body); // plain text, no SAML

  std::string tampered = i.request("_req-t", "carol@example.org");
  tampered.replace(tampered.find("carol@example.org"), 5, "mallo");
  const auto t = d.request("POST", "/saml/nameid", soap(tampered), "", soap_type);
  BOOST_TEST(t.status == 403, describe(t));

  const auto wrong_type = d.request("POST", "/saml/nameid", soap(i.request("_req-w", "carol@example.org")), "",
                                    {"Content-Type: application/json"});
  BOOST_TEST(wrong_type.status == 415, describe(wrong_type));
  BOOST_TEST(saml_events(d).empty());
}

BOOST_AUTO_TEST_CASE(subject_by_scim_user_name) {
  idp i;
  scimd_instance d(saml_section(i) + "subject = \"userName\"\n");
  d.start();
  const std::string user = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dave@example.org","active":true})";
  const auto created = d.request("POST", "/scim/v2/Users", user);
  BOOST_TEST_REQUIRE(created.status == 201, describe(created));
  const std::string scim_id = created.json()["id"];

  const auto unknown = d.request("POST", "/saml/nameid", soap(i.request("_req-x", "nobody@example.org")), "", soap_type);
  BOOST_TEST(unknown.status == 403, describe(unknown));
  BOOST_TEST(unknown.body.find("unknown_subject") != std::string::npos, unknown.body);

  const auto r = d.request("POST", "/saml/nameid", soap(i.request("_req-d", "DAVE@example.org")), "", soap_type);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r) + d.log());
  const auto events = saml_events(d);
  BOOST_TEST_REQUIRE(events.size() == 1u, describe(events));
  BOOST_TEST(events[0].subject_id == scim_id); // [scim_server] subject_key = "id"
  BOOST_TEST(events[0].attributes["samlNameID"][0] == "DAVE@example.org");
}

BOOST_AUTO_TEST_CASE(responses_are_signed_with_the_sp_key) {
  idp i;
  const auto sp_key = i.dir.path() / "sp.key", sp_cert = i.dir.path() / "sp.crt";
  run(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sp -keyout {} -out {} 2>/dev/null",
                  sp_key.string(), sp_cert.string()));
  scimd_instance d(saml_section(i) + fmt::format("sp_key = \"{}\"\nsp_cert = \"{}\"\n", sp_key.string(), sp_cert.string()));
  d.start();
  const auto r = d.request("POST", "/saml/nameid", form_post(i.request("_req-s", "erin@example.org")), "", form_type);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r) + d.log());
  const auto resp = i.dir.path() / "response.xml";
  std::ofstream(resp) << r.body;
  // The xmlsec1 CLI checks the signature with the SP certificate.
  run(fmt::format("xmlsec1 --verify --pubkey-cert-pem {} --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:ManageNameIDResponse "
                  "{} 2>/dev/null",
                  sp_cert.string(), resp.string()));
}

BOOST_AUTO_TEST_SUITE_END()
