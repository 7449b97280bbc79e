// ldap_modify_load — modify load generator for an LDAP server (libldap), used
// by bench/slapd_plugin_overhead.sh to measure what the reclaim SLAPI plugin
// costs slapd. N threads, one connection each, bind simple, then each replaces
// one attribute (employeeType) on a random uid=userNNNNN entry, cycling the
// entry through a value set (active -> terminated -> active ...) so every
// modify is a real status change. `--mix realistic` makes a directory's
// everyday load instead: 1 % status changes, the rest telephoneNumber,
// description and userPassword, with a user bind and a search every N
// modifies. Prints one JSON object: modifies/s, latency percentiles, errors by
// result code (binds and searches apart). `--generate-ldif N` writes the people.
#include <ldap.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using bench_clock = std::chrono::steady_clock;

struct options {
    std::string uri = "ldap://127.0.0.1:389/";
    std::string bind_dn = "cn=admin,dc=example,dc=com";
    std::string password = "secret";
    std::string people_base = "ou=People,dc=example,dc=com";
    std::string suffix = "dc=example,dc=com";
    std::string attribute = "employeeType";
    std::vector<std::string> values = {"active", "terminated"};
    std::string label;
    unsigned threads = 8;
    unsigned entries = 10000;
    double duration_s = 10.0;
    double warmup_s = 0.0;
    std::uint64_t count = 0;  // total modifies; 0 means run for duration_s
    std::uint64_t seed = 0;   // 0 means from the clock
    long generate = -1;       // --generate-ldif N
    bool realistic = false;   // --mix realistic
    double status_percent = 1.0;
    unsigned bind_every = 20;  // modifies between a bind + search, per connection
    double rate = 0;           // --rate: modifies/s over all threads; 0 = as fast as possible
    bool once = false;         // --once: each entry modified once, in order
    std::string times_path;    // --times FILE: "uid unix_us" after each successful response
};

void usage(std::FILE *out)
{
    std::fputs(
        "usage: ldap_modify_load [options]                 run the modify load\n"
        "       ldap_modify_load --generate-ldif N [--suffix DN] > people.ldif\n"
        "  --uri URI            server (default ldap://127.0.0.1:389/)\n"
        "  --bind-dn DN         simple bind DN (default cn=admin,dc=example,dc=com)\n"
        "  --password PW        bind password (default secret)\n"
        "  --password-file F    read the password from F (first line)\n"
        "  --threads N          connections, one thread each (default 8)\n"
        "  --duration S         measured seconds (default 10)\n"
        "  --warmup S           unmeasured seconds before that (default 0)\n"
        "  --count N            total modifies instead of a duration\n"
        "  --entries N          people uid=user00000..; must match the LDIF (10000)\n"
        "  --base DN            parent of the people (default ou=People,<suffix>)\n"
        "  --attribute A        attribute replaced (default employeeType)\n"
        "  --values V1,V2,...   values each entry cycles through (active,terminated)\n"
        "  --mix status|realistic  status (default): every modify a status change;\n"
        "                       realistic: --status-percent of them (1), the rest\n"
        "                       telephoneNumber 45 %, description 45 %, userPassword\n"
        "                       10 %; every --bind-every (20) modifies a connection\n"
        "                       also binds as one of its people (second connection)\n"
        "                       and searches for one (subtree, by uid)\n"
        "  --status-percent P   realistic mix: share of status changes (default 1)\n"
        "  --bind-every N       realistic mix: modifies per bind + search (default 20)\n"
        "  --rate R             at most R modifies/s over all threads (paced)\n"
        "  --once 1             each entry is modified once (in order); ends when all are\n"
        "  --times FILE         write \"uid unix_microseconds\" when each modify's\n"
        "                       success response arrived (bench/time_to_act.sh)\n"
        "  --seed N             random seed (default: clock)\n"
        "  --label S            copied into the JSON\n"
        "Every entry starts at the first value (as --generate-ldif writes it);\n"
        "threads own disjoint entries, so each modify moves its entry to the next\n"
        "value. Exit status: 0, or 1 when nothing succeeded or a thread could not\n"
        "connect.\n",
        out);
}

std::vector<std::string> split(std::string_view s, char sep)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find(sep, start);
        if (end == std::string_view::npos)
            end = s.size();
        if (end > start)
            out.emplace_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

bool parse_number(const char *text, double &out)
{
    char *end = nullptr;
    out = std::strtod(text, &end);
    return end != text && *end == '\0' && out >= 0;
}

bool parse_count(const char *text, std::uint64_t &out)
{
    char *end = nullptr;
    out = std::strtoull(text, &end, 10);
    return end != text && *end == '\0';
}

bool read_password_file(const char *path, std::string &out)
{
    std::FILE *f = std::fopen(path, "r");
    if (f == nullptr)
        return false;
    char buf[1024];
    bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    if (!ok)
        return false;
    out.assign(buf, std::strcspn(buf, "\r\n"));
    return true;
}

// Returns false (after a message) on a bad command line.
bool parse_args(int argc, char **argv, options &o)
{
    bool people_base_set = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "ldap_modify_load: %s needs a value (or is unknown)\n", argv[i]);
            return false;
        }
        const char *v = argv[++i];
        std::uint64_t n = 0;
        bool ok = true;
        if (a == "--uri") o.uri = v;
        else if (a == "--bind-dn") o.bind_dn = v;
        else if (a == "--password") o.password = v;
        else if (a == "--password-file") ok = read_password_file(v, o.password);
        else if (a == "--base") { o.people_base = v; people_base_set = true; }
        else if (a == "--suffix") o.suffix = v;
        else if (a == "--attribute") o.attribute = v;
        else if (a == "--values") { o.values = split(v, ','); ok = !o.values.empty(); }
        else if (a == "--label") o.label = v;
        else if (a == "--duration") ok = parse_number(v, o.duration_s) && o.duration_s > 0;
        else if (a == "--warmup") ok = parse_number(v, o.warmup_s);
        else if (a == "--count") ok = parse_count(v, o.count) && o.count > 0;
        else if (a == "--seed") ok = parse_count(v, o.seed);
        else if (a == "--rate") ok = parse_number(v, o.rate) && o.rate > 0;
        else if (a == "--once") { o.once = std::string_view(v) != "0"; }
        else if (a == "--times") o.times_path = v;
        else if (a == "--mix") {
            o.realistic = std::string_view(v) == "realistic";
            ok = o.realistic || std::string_view(v) == "status";
        } else if (a == "--status-percent") ok = parse_number(v, o.status_percent) && o.status_percent <= 100;
        else if (a == "--bind-every") {
            ok = parse_count(v, n) && n > 0 && n <= 1000000;
            o.bind_every = static_cast<unsigned>(n);
        }
        else if (a == "--threads") {
            ok = parse_count(v, n) && n > 0 && n <= 1024;
            o.threads = static_cast<unsigned>(n);
        } else if (a == "--entries") {
            ok = parse_count(v, n) && n > 0 && n <= 10000000;
            o.entries = static_cast<unsigned>(n);
        } else if (a == "--generate-ldif") {
            ok = parse_count(v, n) && n <= 10000000;
            o.generate = static_cast<long>(n);
        } else {
            std::fprintf(stderr, "ldap_modify_load: unknown option %s\n", argv[i - 1]);
            return false;
        }
        if (!ok) {
            std::fprintf(stderr, "ldap_modify_load: bad value for %s: %s\n", argv[i - 1], v);
            return false;
        }
    }
    if (!people_base_set)
        o.people_base = "ou=People," + o.suffix;
    return true;
}

// uid width: five digits, more when the population needs them; the LDIF
// generator and the load use the same rule so their DNs agree.
int uid_width(unsigned long entries)
{
    int width = 5;
    for (unsigned long limit = 100000; entries > limit && width < 9; limit *= 10)
        ++width;
    return width;
}

std::string uid_of(unsigned long i, int width)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "user%0*lu", width, i);
    return buf;
}

void generate_ldif(const options &o)
{
    std::string rdn_value = o.suffix.substr(0, o.suffix.find(','));
    std::string dc = rdn_value.substr(rdn_value.find('=') + 1);
    std::printf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: %s\no: %s\n\n",
                o.suffix.c_str(), dc.c_str(), dc.c_str());
    std::printf("dn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\n", o.suffix.c_str());
    std::printf("dn: ou=Leavers,%s\nobjectClass: organizationalUnit\nou: Leavers\n\n", o.suffix.c_str());
    const unsigned long n = static_cast<unsigned long>(o.generate);
    const int width = uid_width(n);
    static const char *const titles[] = {"Engineer", "Analyst", "Manager", "Accountant", "Designer"};
    for (unsigned long i = 0; i < n; ++i) {
        std::string uid = uid_of(i, width);
        std::printf("dn: uid=%s,ou=People,%s\n"
                    "objectClass: inetOrgPerson\n"
                    "uid: %s\ncn: User %0*lu\nsn: %0*lu\ngivenName: User\n"
                    "mail: %s@%s.com\nemployeeNumber: %lu\n%s: %s\n"
                    "departmentNumber: D%02lu\ntitle: %s\nuserPassword: %s-pw\n\n",
                    uid.c_str(), o.suffix.c_str(), uid.c_str(), width, i, width, i,
                    uid.c_str(), dc.c_str(), i, o.attribute.c_str(), o.values[0].c_str(),
                    i % 40, titles[i % 5], uid.c_str());
    }
}

struct thread_result {
    std::vector<std::uint32_t> latency_us;  // successful, measured modifies
    std::vector<std::uint32_t> bind_us;     // successful, measured binds (--mix realistic)
    std::vector<std::uint32_t> search_us;   // successful, measured searches
    std::map<int, std::uint64_t> errors;    // result code -> count (measured modifies)
    std::uint64_t bind_errors = 0, search_errors = 0;  // measured
    std::uint64_t reconnects = 0;
    std::uint64_t all_ok = 0;     // successes including warm-up and tail
    std::uint64_t status_ok = 0;  // of which status changes
    std::vector<std::pair<unsigned, long long>> done_at;  // --times: entry, unix µs
    std::string fatal;
};

LDAP *connect_and_bind(const options &o, std::string &error, const std::string *dn = nullptr,
                       const std::string *password = nullptr)
{
    if (dn == nullptr)
        dn = &o.bind_dn;
    if (password == nullptr)
        password = &o.password;
    LDAP *ld = nullptr;
    int rc = ldap_initialize(&ld, o.uri.c_str());
    if (rc != LDAP_SUCCESS) {
        error = std::string("ldap_initialize: ") + ldap_err2string(rc);
        return nullptr;
    }
    int version = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    timeval net_timeout{5, 0};
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net_timeout);
    timeval op_timeout{30, 0};
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op_timeout);
    berval cred{};
    cred.bv_val = const_cast<char *>(password->c_str());
    cred.bv_len = password->size();
    rc = ldap_sasl_bind_s(ld, dn->c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
        error = std::string("bind as ") + *dn + ": " + ldap_err2string(rc);
        ldap_unbind_ext_s(ld, nullptr, nullptr);
        return nullptr;
    }
    return ld;
}

struct shared_state {
    std::atomic<unsigned> ready{0};
    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> issued{0};  // count mode
    bench_clock::time_point start;
    bench_clock::time_point measure_from;
    bench_clock::time_point stop_at;
};

std::uint32_t micros(bench_clock::duration d)
{
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    return static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX));
}

// The password an entry has after `changes` userPassword modifies; the LDIF
// starts every entry at "<uid>-pw".
std::string password_of(const std::string &uid, std::uint32_t changes)
{
    return changes == 0 ? uid + "-pw" : uid + "-pw" + std::to_string(changes);
}

// The entries this thread owns: i with i % threads == t. Disjoint ownership
// lets each thread know every owned entry's current value (and password).
void run_worker(const options &o, unsigned t, shared_state &s, thread_result &r)
{
    std::string error;
    LDAP *ld = connect_and_bind(o, error);
    const int width = uid_width(o.entries);
    std::vector<unsigned> owned;
    for (unsigned i = t; i < o.entries; i += o.threads)
        owned.push_back(i);
    // --mix realistic: a second connection that binds as this thread's
    // people, as applications authenticating users do.
    LDAP *user_ld = nullptr;
    if (ld != nullptr && o.realistic && !owned.empty()) {
        const std::string uid = uid_of(owned[0], width);
        const std::string dn = "uid=" + uid + "," + o.people_base, pw = password_of(uid, 0);
        user_ld = connect_and_bind(o, error, &dn, &pw);
        if (user_ld == nullptr) {
            ldap_unbind_ext_s(ld, nullptr, nullptr);
            ld = nullptr;
        }
    }
    s.ready.fetch_add(1);
    if (ld == nullptr) {
        r.fatal = error;
        return;
    }
    std::vector<unsigned char> state(owned.size(), 0);  // index into o.values
    std::vector<std::uint32_t> password_changes(owned.size(), 0);
    if (owned.empty()) {
        ldap_unbind_ext_s(ld, nullptr, nullptr);
        return;
    }
    std::mt19937_64 rng(o.seed + 0x9e3779b97f4a7c15ULL * (t + 1));
    std::uniform_int_distribution<std::size_t> pick(0, owned.size() - 1);
    std::uniform_real_distribution<double> percent(0.0, 100.0);
    const bool by_count = o.count > 0;
    r.latency_us.reserve(by_count ? o.count / o.threads + 16 : 1 << 16);

    while (!s.go.load(std::memory_order_acquire))
        std::this_thread::yield();

    std::string dn, value;
    std::uint64_t modifies = 0;
    std::size_t cursor = 0;  // --once
    const auto interval = std::chrono::duration_cast<bench_clock::duration>(
        std::chrono::duration<double>(o.rate > 0 ? o.threads / o.rate : 0.0));
    // Threads start a fraction of the interval apart, so paced modifies are
    // spread evenly, not in bursts of `threads`.
    auto next_at = s.start + interval * t / o.threads;
    for (;;) {
        if (o.once && cursor >= owned.size())
            break;
        if (o.rate > 0) {
            std::this_thread::sleep_until(next_at);
            next_at += interval;
        }
        if (by_count) {
            if (s.issued.fetch_add(1, std::memory_order_relaxed) >= o.count)
                break;
        } else if (s.stop.load(std::memory_order_relaxed)) {
            break;
        }
        const std::size_t k = o.once ? cursor++ : pick(rng);
        const std::string uid = uid_of(owned[k], width);
        dn = "uid=" + uid + "," + o.people_base;
        ++modifies;
        if (user_ld != nullptr && modifies % o.bind_every == 0) {
            // A bind as one of this thread's people and a search for one.
            const std::size_t b = pick(rng);
            const std::string buid = uid_of(owned[b], width);
            const std::string bdn = "uid=" + buid + "," + o.people_base;
            const std::string pw = password_of(buid, password_changes[b]);
            berval cred{};
            cred.bv_val = const_cast<char *>(pw.c_str());
            cred.bv_len = pw.size();
            auto t0 = bench_clock::now();
            int rc = ldap_sasl_bind_s(user_ld, bdn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
            auto t1 = bench_clock::now();
            bool measured = by_count || (t0 >= s.measure_from && t1 <= s.stop_at);
            if (measured) {
                if (rc == LDAP_SUCCESS)
                    r.bind_us.push_back(micros(t1 - t0));
                else
                    ++r.bind_errors;
            }
            const std::string filter = "(uid=" + uid_of(owned[pick(rng)], width) + ")";
            char attr_cn[] = "cn", attr_mail[] = "mail", attr_type[] = "employeeType";
            char *attrs[] = {attr_cn, attr_mail, attr_type, nullptr};
            LDAPMessage *res = nullptr;
            t0 = bench_clock::now();
            rc = ldap_search_ext_s(ld, o.people_base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs, 0,
                                   nullptr, nullptr, nullptr, 0, &res);
            t1 = bench_clock::now();
            const bool found = rc == LDAP_SUCCESS && res != nullptr && ldap_count_entries(ld, res) == 1;
            if (res != nullptr)
                ldap_msgfree(res);
            measured = by_count || (t0 >= s.measure_from && t1 <= s.stop_at);
            if (measured) {
                if (found)
                    r.search_us.push_back(micros(t1 - t0));
                else
                    ++r.search_errors;
            }
        }
        // What this modify changes: a status change, or (realistic mix) an
        // attribute no status rule watches.
        enum class change { status, phone, description, password } what = change::status;
        if (o.realistic && percent(rng) >= o.status_percent) {
            const double x = percent(rng);
            what = x < 45.0 ? change::phone : x < 90.0 ? change::description : change::password;
        }
        const char *attribute = o.attribute.c_str();
        unsigned char next = state[k];
        switch (what) {
        case change::status:
            next = static_cast<unsigned char>((state[k] + 1) % o.values.size());
            value = o.values[next];
            break;
        case change::phone:
            attribute = "telephoneNumber";
            value = "+1 555 " + std::to_string(1000000 + rng() % 9000000);
            break;
        case change::description:
            attribute = "description";
            value = "desk " + std::to_string(rng() % 100000) + ", building " + std::to_string(rng() % 12);
            break;
        case change::password:
            attribute = "userPassword";
            value = password_of(uid, password_changes[k] + 1);
            break;
        }
        char *vals[] = {const_cast<char *>(value.c_str()), nullptr};
        LDAPMod mod{};
        mod.mod_op = LDAP_MOD_REPLACE;
        mod.mod_type = const_cast<char *>(attribute);
        mod.mod_values = vals;
        LDAPMod *mods[] = {&mod, nullptr};

        const auto t0 = bench_clock::now();
        const int rc = ldap_modify_ext_s(ld, dn.c_str(), mods, nullptr, nullptr);
        const auto t1 = bench_clock::now();
        if (!by_count && t1 >= s.stop_at)
            s.stop.store(true, std::memory_order_relaxed);
        const bool measured = by_count || (t0 >= s.measure_from && t1 <= s.stop_at);
        if (rc == LDAP_SUCCESS) {
            state[k] = next;
            if (what == change::password)
                ++password_changes[k];
            if (what == change::status)
                ++r.status_ok;
            if (!o.times_path.empty())
                r.done_at.emplace_back(owned[k], std::chrono::duration_cast<std::chrono::microseconds>(
                                                     std::chrono::system_clock::now().time_since_epoch())
                                                     .count());
            ++r.all_ok;
            if (measured)
                r.latency_us.push_back(micros(t1 - t0));
            continue;
        }
        if (measured)
            ++r.errors[rc];
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
            ldap_unbind_ext_s(ld, nullptr, nullptr);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            ld = connect_and_bind(o, error);
            ++r.reconnects;
            if (ld == nullptr) {
                r.fatal = "reconnect failed: " + error;
                if (user_ld != nullptr)
                    ldap_unbind_ext_s(user_ld, nullptr, nullptr);
                return;
            }
        }
    }
    ldap_unbind_ext_s(ld, nullptr, nullptr);
    if (user_ld != nullptr)
        ldap_unbind_ext_s(user_ld, nullptr, nullptr);
}

double percentile_ms(const std::vector<std::uint32_t> &sorted, double p)
{
    if (sorted.empty())
        return 0.0;
    // Nearest rank.
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1] / 1000.0;
}

std::string json_escape(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

int run_load(const options &o)
{
    shared_state s;
    std::vector<thread_result> results(o.threads);
    std::vector<std::thread> workers;
    workers.reserve(o.threads);
    for (unsigned t = 0; t < o.threads; ++t)
        workers.emplace_back(run_worker, std::cref(o), t, std::ref(s), std::ref(results[t]));
    while (s.ready.load() < o.threads)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));

    const auto start = bench_clock::now();
    s.start = start;
    s.measure_from = start + std::chrono::duration_cast<bench_clock::duration>(
                                 std::chrono::duration<double>(o.count > 0 ? 0.0 : o.warmup_s));
    s.stop_at = s.measure_from + std::chrono::duration_cast<bench_clock::duration>(
                                     std::chrono::duration<double>(o.duration_s));
    s.go.store(true, std::memory_order_release);
    for (auto &w : workers)
        w.join();
    const auto end = bench_clock::now();

    std::vector<std::uint32_t> all, binds, searches;
    std::map<int, std::uint64_t> errors;
    std::uint64_t error_total = 0, reconnects = 0, all_ok = 0, status_ok = 0, bind_errors = 0, search_errors = 0;
    std::string fatal;
    for (auto &r : results) {
        all.insert(all.end(), r.latency_us.begin(), r.latency_us.end());
        binds.insert(binds.end(), r.bind_us.begin(), r.bind_us.end());
        searches.insert(searches.end(), r.search_us.begin(), r.search_us.end());
        status_ok += r.status_ok;
        bind_errors += r.bind_errors;
        search_errors += r.search_errors;
        for (auto [code, n] : r.errors) {
            errors[code] += n;
            error_total += n;
        }
        reconnects += r.reconnects;
        all_ok += r.all_ok;
        if (!r.fatal.empty() && fatal.empty())
            fatal = r.fatal;
    }
    if (!o.times_path.empty()) {
        std::FILE *f = std::fopen(o.times_path.c_str(), "w");
        if (f == nullptr) {
            std::fprintf(stderr, "ldap_modify_load: cannot write %s\n", o.times_path.c_str());
            fatal = "cannot write " + o.times_path;
        } else {
            const int width = uid_width(o.entries);
            for (const auto &r : results)
                for (const auto &[entry, us] : r.done_at)
                    std::fprintf(f, "%s %lld\n", uid_of(entry, width).c_str(), us);
            if (std::fclose(f) != 0)
                fatal = "cannot write " + o.times_path;
        }
    }
    std::sort(all.begin(), all.end());
    std::sort(binds.begin(), binds.end());
    std::sort(searches.begin(), searches.end());
    const double window_s = o.count > 0 ? std::chrono::duration<double>(end - start).count()
                                        : std::chrono::duration<double>(
                                              std::min(end, s.stop_at) - s.measure_from).count();
    double sum_ms = 0;
    for (auto v : all)
        sum_ms += v / 1000.0;
    const double ops = static_cast<double>(all.size());

    std::printf("{\"label\": \"%s\", \"uri\": \"%s\", \"threads\": %u, \"entries\": %u, "
                "\"attribute\": \"%s\", \"seconds\": %.3f, \"ops\": %zu, \"errors\": %llu, "
                "\"error_codes\": {",
                json_escape(o.label).c_str(), json_escape(o.uri).c_str(), o.threads, o.entries,
                json_escape(o.attribute).c_str(), window_s, all.size(),
                static_cast<unsigned long long>(error_total));
    bool first = true;
    for (auto [code, n] : errors) {
        std::printf("%s\"%d\": %llu", first ? "" : ", ", code, static_cast<unsigned long long>(n));
        first = false;
    }
    std::printf("}, \"reconnects\": %llu, \"all_ops\": %llu, \"ops_per_s\": %.1f, \"latency_ms\": {\"mean\": %.3f, "
                "\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}",
                static_cast<unsigned long long>(reconnects), static_cast<unsigned long long>(all_ok),
                window_s > 0 ? ops / window_s : 0.0,
                all.empty() ? 0.0 : sum_ms / ops, percentile_ms(all, 50), percentile_ms(all, 90),
                percentile_ms(all, 99), percentile_ms(all, 99.9),
                all.empty() ? 0.0 : all.back() / 1000.0);
    // The load generator's own CPU, so a caller can tell how much of the
    // machine it took from the server.
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    const double cpu_s = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                         static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
    std::printf(", \"cpu_s\": %.3f", cpu_s);
    std::printf(", \"mix\": \"%s\", \"status_changes\": %llu", o.realistic ? "realistic" : "status",
                static_cast<unsigned long long>(status_ok));
    if (o.realistic) {
        std::printf(", \"binds\": {\"ops\": %zu, \"errors\": %llu, \"p50\": %.3f, \"p99\": %.3f}, "
                    "\"searches\": {\"ops\": %zu, \"errors\": %llu, \"p50\": %.3f, \"p99\": %.3f}",
                    binds.size(), static_cast<unsigned long long>(bind_errors), percentile_ms(binds, 50),
                    percentile_ms(binds, 99), searches.size(), static_cast<unsigned long long>(search_errors),
                    percentile_ms(searches, 50), percentile_ms(searches, 99));
    }
    if (!fatal.empty())
        std::printf(", \"fatal\": \"%s\"", json_escape(fatal).c_str());
    std::printf("}\n");
    if (!fatal.empty())
        std::fprintf(stderr, "ldap_modify_load: %s\n", fatal.c_str());
    return (all.empty() || !fatal.empty()) ? 1 : 0;
}

}  // namespace

int main(int argc, char **argv)
{
    // Every connection parameter comes from the command line, never from
    // ldap.conf or ~/.ldaprc.
    setenv("LDAPNOINIT", "1", 1);
    options o;
    if (!parse_args(argc, argv, o)) {
        usage(stderr);
        return 2;
    }
    if (o.values.size() > 255) {
        std::fprintf(stderr, "ldap_modify_load: at most 255 values\n");
        return 2;
    }
    if (o.generate >= 0) {
        generate_ldif(o);
        return std::fflush(stdout) == 0 ? 0 : 1;
    }
    if (o.seed == 0)
        o.seed = static_cast<std::uint64_t>(bench_clock::now().time_since_epoch().count());
    return run_load(o);
}
