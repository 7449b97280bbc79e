// fuzz_saml.cpp — ManageNameIDRequest verification (scim/saml_nameid.cpp)
// with a fixed trust (the fuzzing IdP's P-256 certificate below, a fixed
// "now"): the input as XML, as a POST-binding base64 field and as metadata;
// only saml_error may come out, and what is accepted names the fixed IdP and
// our endpoint and gets a response. RECLAIM_FUZZ_SAML_SEEDS=dir writes the
// seed corpus (signed with the fixed key) and exits; RECLAIM_FUZZ_SAML_VERBOSE
// prints why each input was refused.
#include "scim/saml_nameid.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

using namespace reclaim::saml;

namespace {

// A test key: public on purpose, it signs only the fuzzing seeds.
const char *const fuzz_key = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmK8qqbb9D+/95K5O
czPwSzO9r35ez1MhOap/albXY9GhRANCAARLlVHnDKO1ZR9qjXCVfLKSOHkFr2Zg
6f8IPdbqI5KKOiEgCtMuatlYC1ebRTngrhTKgRwbM57JjOMif/SEWtFz
-----END PRIVATE KEY-----
)";
const char *const fuzz_cert_b64 =
    "MIIBjTCCATOgAwIBAgIUbvjYYs4Y2ir96egYmmIjLsYYjeowCgYIKoZIzj0EAwIw"
    "GzEZMBcGA1UEAwwQcmVjbGFpbS1mdXp6LWlkcDAgFw0yNjEyMDgwMzA1NDVaGA8y"
    "MTI2MTExNDAzMDU0NVowGzEZMBcGA1UEAwwQcmVjbGFpbS1mdXp6LWlkcDBZMBMG"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABEuVUecMo7VlH2qNcJV8spI4eQWvZmDp/wg9"
    "1uojkoo6ISAK0y5q2VgLV5tFOeCuFMqBHBsznsmM4yJ/9IRa0XOjUzBRMB0GA1Ud"
    "DgQWBBTmjGWrZj5B5sUhpd63i9zNLzWDnzAfBgNVHSMEGDAWgBTmjGWrZj5B5sUh"
    "pd63i9zNLzWDnzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGz4"
    "GV9iyWfzWYkz1k3Wgoy+AN220P//4xsY1NJk1lAMAiEAohCr5LNgpq/7FGyVgBqe"
    "J3Mv2eI3GRz02wfWeMiujoM=";
const char *const idp = "https://idp.example.org/saml";
const char *const endpoint = "https://sp.example.org/saml/nameid";
const char *const issue_instant = "2026-01-01T00:00:00Z";

std::string metadata() {
  return std::string(R"(<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID=")") +
         idp + R"("><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>)" +
         fuzz_cert_b64 + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>";
}

time_point fixed_now() { return std::chrono::system_clock::from_time_t(1767225600); } // issue_instant

std::string request(const std::string &id, const std::string &sig_alg, const std::string &digest,
                    const std::string &body, const std::string &ext = "") {
  return std::string(R"(<samlp:ManageNameIDRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID=")") +
         id + R"(" Version="2.0" IssueInstant=")" + issue_instant + R"(" Destination=")" + endpoint +
         R"("><saml:Issuer>)" + idp +
         R"(</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm=")" +
         sig_alg + R"("/><ds:Reference URI="#)" + id +
         R"("><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm=")" +
         digest + R"("/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>)" +
         ext + R"(<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.org</saml:NameID>)" +
         body + "</samlp:ManageNameIDRequest>";
}

std::string sign(const std::string &xml) {
  xmlDoc *doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, XML_PARSE_NONET);
  xmlNode *root = xmlDocGetRootElement(doc);
  xmlAttr *id = xmlHasNsProp(root, BAD_CAST "ID", nullptr);
  xmlChar *v = xmlNodeListGetString(doc, id->children, 1);
  xmlAddID(nullptr, doc, v, id);
  xmlFree(v);
  xmlNode *sig = root->children;
  while (!xmlStrEqual(sig->name, BAD_CAST "Signature")) sig = sig->next;
  xmlSecDSigCtx *ctx = xmlSecDSigCtxCreate(nullptr);
  ctx->signKey = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte *>(fuzz_key),
                                              static_cast<xmlSecSize>(std::char_traits<char>::length(fuzz_key)),
                                              xmlSecKeyDataFormatPem, nullptr, nullptr, nullptr);
  if (!ctx->signKey || xmlSecDSigCtxSign(ctx, sig) < 0) std::abort();
  xmlSecDSigCtxDestroy(ctx);
  xmlChar *buf = nullptr;
  int size = 0;
  xmlDocDumpMemory(doc, &buf, &size);
  std::string out(reinterpret_cast<char *>(buf), static_cast<std::size_t>(size));
  xmlFree(buf);
  xmlFreeDoc(doc);
  return out;
}

void write_seeds(const std::string &dir) {
  const std::string ecdsa = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
  const std::string sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
  const auto valid = sign(request("_seed1", ecdsa, sha256, "<samlp:Terminate/>"));
  const auto body = valid.substr(valid.find("<samlp:"));
  const auto sig_at = body.find("<ds:Signature"), sig_end = body.find("</ds:Signature>") + 15;
  const auto sig = body.substr(sig_at, sig_end - sig_at);
  const auto moved = body.substr(0, sig_at) + body.substr(sig_end);
  const std::pair<const char *, std::string> seeds[] = {
      {"valid.xml", valid},
      {"soap.xml", R"(<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>)" +
                       body + "</SOAP-ENV:Body></SOAP-ENV:Envelope>"},
      {"post.b64", base64_encode(valid)},
      {"wrapped.xml", std::string(R"(<samlp:ManageNameIDRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_evil" Version="2.0" IssueInstant=")") +
                          issue_instant + R"(" Destination=")" + endpoint + R"("><saml:Issuer>)" + idp +
                          "</saml:Issuer>" + sig + "<samlp:Extensions>" + moved +
                          "</samlp:Extensions><saml:NameID>mallory</saml:NameID><samlp:Terminate/></samlp:ManageNameIDRequest>"},
      {"newid.xml", sign(request("_seed2", ecdsa, sha256, "<samlp:NewID>alice-2</samlp:NewID>"))},
      {"sha1.xml", request("_seed3", "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                           "http://www.w3.org/2000/09/xmldsig#sha1", "<samlp:Terminate/>")},
      {"doctype.xml", R"(<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>)" + body},
      {"metadata.xml", metadata()},
  };
  for (const auto &[name, text] : seeds) std::ofstream(dir + "/" + name, std::ios::binary) << text;
}

idp_trust make_trust(memory_replay_cache &cache) {
  idp_trust t;
  parse_idp_metadata(metadata(), t);
  t.destination = endpoint;
  t.max_skew = std::chrono::seconds(300);
  t.remember_once = cache.function();
  return t;
}

void check_accepted(const verified_request &r) {
  if (r.issuer != idp || r.destination != endpoint || !r.terminate || r.name.value.empty()) std::abort();
  const signing_key key(fuzz_key);
  (void)manage_name_id_response(r, "Success", "https://sp.example.org/saml", "_resp", fixed_now(), &key);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  init_xmlsec();
  if (const char *dir = std::getenv("RECLAIM_FUZZ_SAML_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  memory_replay_cache cache; // fresh per input: a seed is not a replay of itself
  static const idp_trust base = [] {
    memory_replay_cache unused;
    auto t = make_trust(unused);
    t.remember_once = nullptr;
    return t;
  }();
  idp_trust trust = base;
  trust.remember_once = cache.function();
  static const bool verbose = std::getenv("RECLAIM_FUZZ_SAML_VERBOSE") != nullptr;
  try {
    check_accepted(verify_manage_name_id(in, trust, fixed_now()));
    if (verbose) std::cerr << "xml: accepted\n";
  } catch (const saml_error &e) {
    if (verbose) std::cerr << "xml: " << e.what() << "\n";
  }
  try {
    check_accepted(verify_manage_name_id_post(in, trust, fixed_now()));
    if (verbose) std::cerr << "post: accepted\n";
  } catch (const saml_error &e) {
    if (verbose) std::cerr << "post: " << e.what() << "\n";
  }
  try {
    idp_trust t;
    parse_idp_metadata(in, t);
    if (t.entity_id.empty() || t.certificates.empty()) std::abort();
  } catch (const saml_error &) {
  }
  return 0;
}
