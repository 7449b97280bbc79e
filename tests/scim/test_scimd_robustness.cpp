// test_scimd_robustness.cpp — reclaim-scimd under hostile or unlucky
// conditions: a slow client, an oversized header, the connection cap,
// SIGTERM with a request in flight (drained, exit 0), kill -9 during a
// burst of PATCHes (every 2xx's event journalled after restart, none twice),
// and 32 concurrent clients through the group commit.
#include "process.hpp"
#include "scimd_harness.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace reclaim::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct raw_socket {
  int fd = -1;
  explicit raw_socket(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
    timeval tv{20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~raw_socket() { ::close(fd); }
  void send(const std::string &s) const { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  // Everything until the peer closes (or 20 s pass).
  std::string read_all() const {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
};

std::string user_body(const std::string &name) {
  return json{{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}}, {"userName", name}, {"active", true}}.dump();
}

std::string describe(const http_reply &r) { return std::to_string(r.status) + " " + r.error + " " + r.body; }

} // namespace

BOOST_AUTO_TEST_CASE(slow_client_is_cut_off) {
  scimd_instance s("[scim_server.limits]\nheader_timeout_ms = 300\nbody_timeout_ms = 300\nidle_timeout_ms = 300\n");
  s.start();
  {
    raw_socket c(s.port());
    c.send("POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n"); // and nothing more
    const auto t0 = std::chrono::steady_clock::now();
    const std::string reply = c.read_all();
    const auto waited = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(reply.empty(), reply); // closed: tcp_stream's timeout closes the socket
    BOOST_TEST((waited < 5s));
  }
  {
    raw_socket c(s.port()); // a body that never completes
    c.send("POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + provisioner_token +
           "\r\nContent-Length: 100\r\n\r\n{\"userName\":");
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(c.read_all().empty());
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
  }
  {
    raw_socket c(s.port()); // idle keep-alive connection: closed, no reply
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(c.read_all().empty());
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
  }
  auto r = s.request("GET", "/scim/v2/Users");
  BOOST_TEST(r.status == 200, describe(r));
  BOOST_TEST(s.scim_events().empty());
  BOOST_TEST(s.log().find("did not arrive within") != std::string::npos, s.log());
}

BOOST_AUTO_TEST_CASE(oversized_header_and_connection_cap) {
  scimd_instance s("[scim_server.limits]\nmax_header_bytes = 2048\nmax_connections = 2\n");
  s.start();
  auto r = s.request("GET", "/scim/v2/Users", "", provisioner_token, {"X-Padding: " + std::string(4096, 'p')});
  BOOST_TEST(r.status == 431, describe(r));
  std::this_thread::sleep_for(200ms); // the server ends that connection just after curl returns
  {
    raw_socket a(s.port()), b(s.port());
    std::this_thread::sleep_for(200ms);
    raw_socket c(s.port());
    BOOST_TEST(c.read_all().find("503") != std::string::npos);
  }
  std::this_thread::sleep_for(200ms);
  r = s.request("GET", "/scim/v2/Users");
  BOOST_TEST(r.status == 200, describe(r));
}

BOOST_AUTO_TEST_CASE(sigterm_drains_the_request_in_flight) {
  scimd_instance s;
  s.start();
  const std::string body = user_body("drain@example.com");
  raw_socket c(s.port());
  c.send("POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + provisioner_token +
         "\r\nContent-Type: application/scim+json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body.substr(0, 10));
  std::this_thread::sleep_for(300ms);
  ::kill(s.pid(), SIGTERM);
  std::this_thread::sleep_for(500ms);
  BOOST_TEST_REQUIRE(process_alive(s.pid()));
  c.send(body.substr(10));
  const std::string reply = c.read_all();
  BOOST_TEST(reply.find("HTTP/1.1 201") == 0u, reply);
  BOOST_TEST(reply.find("Connection: close") != std::string::npos, reply);
  BOOST_TEST(s.stop_term() == 0, s.log());
  BOOST_TEST(s.log().find("drained") != std::string::npos, s.log());
  BOOST_TEST(s.scim_events().size() == 1u);
}

BOOST_AUTO_TEST_CASE(kill9_during_a_patch_burst_loses_no_acknowledged_event) {
  scimd_instance s;
  s.start();
  constexpr int users = 8;
  std::vector<std::string> ids;
  for (int i = 0; i < users; ++i) {
    auto r = s.request("POST", "/scim/v2/Users", user_body("burst" + std::to_string(i) + "@example.com"));
    BOOST_TEST_REQUIRE(r.status == 201, describe(r));
    ids.push_back(r.json()["id"]);
  }
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> acknowledged; // id, version
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, t] {
      bool active = true;
      while (!stop) {
        for (int i = t; i < users && !stop; i += 4) {
          const auto body = json{{"schemas", {"urn:ietf:params:scim:api:messages:2.0:PatchOp"}},
                                 {"Operations", {{{"op", "replace"}, {"path", "active"}, {"value", !active}}}}}
                                .dump();
          auto r = s.request("PATCH", "/scim/v2/Users/" + ids[static_cast<std::size_t>(i)], body);
          if (r.status == 200) {
            std::string v = r.header("etag");
            std::lock_guard lock(mu);
            acknowledged.emplace_back(ids[static_cast<std::size_t>(i)], v.substr(3, v.size() - 4));
          }
        }
        active = !active;
      }
    });
  std::this_thread::sleep_for(1500ms);
  s.kill9();
  stop = true;
  for (auto &c : clients) c.join();
  BOOST_TEST_MESSAGE(acknowledged.size() << " PATCHes acknowledged before kill -9");
  BOOST_TEST_REQUIRE(acknowledged.size() > 10u);
  s.start();
  const auto events = s.scim_events();
  std::map<std::string, int> by_key;
  for (const auto &e : events) {
    // scim/<id>/v<version>/<digest>: one event per resulting version.
    const auto slash = e.idempotency_key.rfind('/');
    ++by_key[e.idempotency_key.substr(0, slash)];
  }
  for (const auto &[key, n] : by_key) BOOST_TEST(n == 1, key);
  for (const auto &[id, version] : acknowledged)
    BOOST_TEST(by_key.count("scim/" + id + "/v" + version) == 1u, "acknowledged " << id << " v" << version);
  // The store and the journal agree after the restart.
  for (const auto &id : ids) {
    auto r = s.request("GET", "/scim/v2/Users/" + id);
    BOOST_TEST_REQUIRE(r.status == 200, describe(r));
    const std::string v = r.header("etag");
    const std::string version = v.substr(3, v.size() - 4);
    if (version != "1") BOOST_TEST(by_key.count("scim/" + id + "/v" + version) == 1u, id << " v" << version);
  }
}

// Group commit (issue 16): 32 clients at once, 16 on a User of their own
// and 16 sharing 4 Users with If-Match. Every 2xx is journalled exactly
// once, versions of a User rise strictly in journal order, and each User
// ends as its last acknowledged PATCH left it.
BOOST_AUTO_TEST_CASE(concurrent_patches_are_group_committed_in_order) {
  scimd_instance s;
  s.start();
  constexpr int own = 16, shared = 4, clients_n = 32;
  std::vector<std::string> ids;
  for (int i = 0; i < own + shared; ++i) {
    auto r = s.request("POST", "/scim/v2/Users", user_body("group" + std::to_string(i) + "@example.com"));
    BOOST_TEST_REQUIRE(r.status == 201, describe(r));
    ids.push_back(r.json()["id"]);
  }
  struct ack {
    std::string id;
    long version;
    bool active;
  };
  std::mutex mu;
  std::vector<ack> acks;
  std::atomic<int> unexpected{0};
  auto patch = [](bool active) {
    return json{{"schemas", {"urn:ietf:params:scim:api:messages:2.0:PatchOp"}},
                {"Operations", {{{"op", "replace"}, {"path", "active"}, {"value", active}}}}}
        .dump();
  };
  auto version_of = [](const http_reply &r) {
    const std::string v = r.header("etag");
    return std::stol(v.substr(3, v.size() - 4));
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < clients_n; ++t)
    clients.emplace_back([&, t] {
      const bool mine = t < own;
      const std::string id = ids[static_cast<std::size_t>(mine ? t : own + t % shared)];
      bool active = true;
      for (int done = 0, tries = 0; done < 8 && tries < 200; ++tries) {
        std::vector<std::string> headers;
        if (!mine) { // read the current version, change it only if it is still current
          auto g = s.request("GET", "/scim/v2/Users/" + id);
          if (g.status != 200) {
            ++unexpected;
            continue;
          }
          active = g.json().value("active", true);
          headers.push_back("If-Match: W/\"" + std::to_string(version_of(g)) + "\"");
        }
        auto r = s.request("PATCH", "/scim/v2/Users/" + id, patch(!active), provisioner_token, headers);
        if (r.status == 412 && !mine) continue;
        if (r.status != 200 || r.json().value("active", active) != !active) {
          ++unexpected;
          BOOST_TEST_MESSAGE("unexpected reply " << describe(r));
          continue;
        }
        active = !active;
        ++done;
        std::lock_guard lock(mu);
        acks.push_back({id, version_of(r), active});
      }
    });
  for (auto &c : clients) c.join();
  BOOST_TEST(unexpected.load() == 0);
  BOOST_TEST_REQUIRE(acks.size() >= static_cast<std::size_t>(own * 8));

  // One event per acknowledged version, none for anything else.
  const auto events = s.scim_events();
  std::map<std::string, int> by_key;
  std::map<std::string, std::vector<long>> versions_in_journal; // id -> versions in seq order
  for (const auto &e : events) {
    const auto slash = e.idempotency_key.rfind('/');
    const std::string key = e.idempotency_key.substr(0, slash); // scim/<id>/v<n>
    ++by_key[key];
    const auto v = key.rfind("/v");
    if (v != std::string::npos) versions_in_journal[e.subject_id].push_back(std::stol(key.substr(v + 2)));
  }
  for (const auto &[key, n] : by_key) BOOST_TEST(n == 1, key);
  std::map<std::string, ack> last;
  for (const auto &a : acks) {
    BOOST_TEST(by_key.count("scim/" + a.id + "/v" + std::to_string(a.version)) == 1u, a.id << " v" << a.version);
    auto [it, fresh] = last.emplace(a.id, a);
    if (!fresh && a.version > it->second.version) it->second = a;
  }
  std::size_t acked_events = 0;
  for (const auto &[key, n] : by_key) acked_events += key.ends_with("/v1") ? 0u : static_cast<std::size_t>(n);
  BOOST_TEST(acked_events == acks.size(), "events beyond the creations: " << acked_events);
  for (const auto &[id, vs] : versions_in_journal)
    for (std::size_t i = 1; i < vs.size(); ++i) BOOST_TEST(vs[i - 1] < vs[i], id << ": v" << vs[i - 1] << " then v" << vs[i]);
  for (const auto &[id, a] : last) {
    auto r = s.request("GET", "/scim/v2/Users/" + id);
    BOOST_TEST_REQUIRE(r.status == 200, describe(r));
    BOOST_TEST(version_of(r) == a.version, id);
    BOOST_TEST(r.json().value("active", !a.active) == a.active, id);
  }
}

// A batch the journal refuses answers every request in it 503 and keeps
// nothing of it in scim.sqlite3.
BOOST_AUTO_TEST_CASE(a_failed_group_commit_answers_503_and_keeps_nothing) {
  scimd_instance s;
  s.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto r = s.request("POST", "/scim/v2/Users", user_body("lost" + std::to_string(i) + "@example.com"));
    BOOST_TEST_REQUIRE(r.status == 201, describe(r));
    ids.push_back(r.json()["id"]);
  }
  std::filesystem::rename(s.state_dir() / "journal.sqlite3", s.state_dir() / "journal.sqlite3.aside");
  const auto body = json{{"schemas", {"urn:ietf:params:scim:api:messages:2.0:PatchOp"}},
                         {"Operations", {{{"op", "replace"}, {"path", "active"}, {"value", false}}}}}
                        .dump();
  std::vector<long> status(ids.size());
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < ids.size(); ++i)
    clients.emplace_back([&, i] { status[i] = s.request("PATCH", "/scim/v2/Users/" + ids[i], body).status; });
  for (auto &c : clients) c.join();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    BOOST_TEST(status[i] == 503, ids[i]);
    auto r = s.request("GET", "/scim/v2/Users/" + ids[i]);
    BOOST_TEST_REQUIRE(r.status == 200, describe(r));
    BOOST_TEST(r.header("etag") == "W/\"1\"", ids[i]);
    BOOST_TEST(r.json().value("active", false) == true, ids[i]);
  }
}
