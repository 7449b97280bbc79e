// graph_reclaim.cpp — reclaims N licences (default 10,000) through the real
// scheduler and msgraph connector against tests/sim/graph_sim.py enforcing
// Graph's published per-app+tenant write budget (3,000 writes per 150 s),
// scaled ten times faster (3,000 per 15 s: a bucket of 3,000 refilled at
// 200/s) so a run takes ~35-40 s. Prints the wall time, the minimum the
// limit allows, the ratio, and requests / 429s as the simulator counted.
//   graph_reclaim [N]
//   graph_reclaim N --defaults [T]: no limits in the config (the
//     connector's defaults) against the unscaled documented budget (3,000
//     writes per 150 s), whose bucket holds T tokens at the start (default
//     3,000: full; less: another client of the app spent some).
#include "harness.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

using namespace reclaim;
using namespace reclaim::ctest;

int main(int argc, char **argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10'000;
  const bool defaults = argc > 2 && std::string(argv[2]) == "--defaults";
  const double limit = 3000, window_s = defaults ? 150 : 15, rate = limit / window_s;
  const double start_tokens = defaults && argc > 3 ? std::atof(argv[3]) : limit;
  reclaim::test::temp_dir tmp{"reclaim-bench-graph-"};
  simulator sim{"graph_sim.py", tmp.path()};
  json seed{{"clients", {{{"client_id", "app-1"}, {"secret", "s3cret"}}}},
            {"skus", {{{"skuId", "05e9a617-0261-4cee-bb44-138d3ef5d965"}}}},
            {"write_limit", {{"count", limit}, {"window", window_s}, {"tokens", start_tokens}}},
            {"users", json::array()}};
  for (int i = 0; i < n; ++i)
    seed["users"].push_back({{"id", fmt::format("id-{}", i)}, {"userPrincipalName", fmt::format("u{}@contoso.com", i)},
                             {"licenses", {"05e9a617-0261-4cee-bb44-138d3ef5d965"}}});
  write_secret(tmp / "graph.secret", "s3cret");
  store_harness h(fmt::format(R"toml(
[connector.graph]
type = "msgraph"
tenant = "contoso"
client_id = "app-1"
client_secret_file = "{1}/graph.secret"
base_url = "{0}/v1.0"
token_url = "{0}/contoso/oauth2/v2.0/token"
skus = {{ E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965" }}
{2}

[[application]]
id = "m365"
connector = "graph"
skus = [ {{ id = "E3", monthly_cost = 33.0 }} ]
)toml", sim.url(), tmp.path().string(),
                              defaults ? "# no limits: the connector's defaults"
                                       : "# The tenant's published write budget, scaled: 3,000 writes per 15 s; the\n"
                                         "# client keeps a little under the server's burst so it never meets a 429.\n"
                                         "write_limit = 3000\nwrite_window = \"PT15S\"\nwrite_burst = 2950"));
  for (int i = 0; i < n; ++i) h.add_action(fmt::format("id-{}", i), "m365", action_kind::reclaim_licence, json::object());
  h.sched();             // connectors built, token not yet fetched
  sim.seed(seed);        // the vendor's bucket starts full now
  const auto start = std::chrono::steady_clock::now();
  // Until nothing is pending: retries (throttled actions) are run at once,
  // the connector's own pause and bucket are what make them wait.
  for (int round = 0; round < 1000; ++round) {
    h.sched().run_due(now() + std::chrono::minutes(round));
    bool pending = false;
    for (const auto &a : h.all_actions()) pending = pending || a.status == "pending";
    if (!pending) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int done = 0;
  for (const auto &a : h.all_actions()) done += a.status == "done";
  const auto st = sim.stats()["stats"];
  const double minimum = std::max(0.0, (n - start_tokens) / rate);
  const double api = st.value("api_requests", 0), throttled = st.value("throttled", 0);
  fmt::print("actions {} done {} | wall {:.2f} s | minimum the limit allows {:.2f} s | ratio {:.3f}\n", n, done,
             secs, minimum, minimum > 0 ? secs / minimum : 0);
  fmt::print("HTTP requests {} ($batch {}) | Graph requests inside {} | 429 {} ({:.3f} %) | writes {}\n",
             st.value("requests", 0), st.value("batches", 0), api, throttled, api > 0 ? 100 * throttled / api : 0,
             st.value("writes", 0));
  return done == n ? 0 : 1;
}
