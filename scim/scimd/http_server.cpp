// http_server.cpp — Boost.Beast sessions, one per connection, on a strand.
// A connection waits for the first byte of a request for idle_timeout, then
// must deliver the header within header_timeout and the body within
// body_timeout; a header or body over the limit is answered (431/413) and
// the connection closed, so nothing is allocated beyond the limits.
#include "http_server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace reclaim::scimd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct session_base {
  virtual ~session_base() = default;
  virtual void drain() = 0;      // on the session's strand
  virtual void force_close() = 0; // on the session's strand
};

struct http_server::impl {
  scimd_config cfg;
  http_handler handler;
  error_responder errors;
  asio::io_context io;
  // Runs the request handlers (see session::handle).
  asio::thread_pool workers{64};
  // The acceptor and the drain timer are used from several I/O threads
  // (accept, stop, the last session's end): all through this strand.
  asio::strand<asio::io_context::executor_type> strand{asio::make_strand(io)};
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{strand};
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> active{0};
  asio::steady_timer drain_timer{strand};
  std::mutex mu;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<session_base>> sessions;

  void accept();
  void on_session_end(std::uint64_t id);
  template <class F> void each_session(F f) {
    std::vector<std::shared_ptr<session_base>> live;
    {
      std::lock_guard lock(mu);
      for (auto &[id, w] : sessions)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto &s : live) f(s);
  }
};

namespace {

void log_line(const std::string &text) { std::fprintf(stderr, "reclaim-scimd: %s\n", text.c_str()); }

template <class Stream> tcp::socket &lowest_socket(Stream &s) { return beast::get_lowest_layer(s).socket(); }

template <class Stream> class session : public session_base, public std::enable_shared_from_this<session<Stream>> {
public:
  session(http_server::impl &srv, std::uint64_t id, Stream stream, std::string peer)
      : srv_(srv), id_(id), stream_(std::move(stream)), peer_(std::move(peer)) {}
  ~session() override { srv_.on_session_end(id_); }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(srv_.cfg.limits.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_now();
                                self->wait_request();
                              });
    } else {
      wait_request();
    }
  }

  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->close_now();
    });
  }
  void force_close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_now(); });
  }

private:
  http_server::impl &srv_;
  std::uint64_t id_;
  Stream stream_;
  std::string peer_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  bool idle_ = false;
  bool closed_ = false;

  void close_now() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    lowest_socket(stream_).shutdown(tcp::socket::shutdown_both, ec);
    lowest_socket(stream_).close(ec);
  }

  void wait_request() {
    if (srv_.draining) return finish();
    if (buffer_.size() > 0) return read_header();
    idle_ = true;
    beast::get_lowest_layer(stream_).expires_after(srv_.cfg.limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(8192), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->idle_ = false;
      if (ec) return self->close_now();
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_.cfg.limits.max_header_bytes));
    parser_->body_limit(srv_.cfg.limits.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(srv_.cfg.limits.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      auto &req = self->parser_->get();
      if (beast::iequals(req[http::field::expect], "100-continue")) {
        auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
        beast::get_lowest_layer(self->stream_).expires_after(self->srv_.cfg.limits.body_timeout);
        http::async_write(self->stream_, *cont, [self, cont](beast::error_code wec, std::size_t) {
          if (wec) return self->close_now();
          self->read_body();
        });
        return;
      }
      self->read_body();
    });
  }

  void read_body() {
    beast::get_lowest_layer(stream_).expires_after(srv_.cfg.limits.body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      self->handle();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit)
      return send_error(413, "the request body is larger than " + std::to_string(srv_.cfg.limits.max_body_bytes) + " bytes");
    if (ec == http::error::header_limit)
      return send_error(431, "the request header is larger than " + std::to_string(srv_.cfg.limits.max_header_bytes) + " bytes");
    if (ec == beast::error::timeout) {
      // tcp_stream has closed the socket already: no 408 can be sent.
      log_line("connection from " + peer_ + " closed: the request did not arrive within the header/body timeout");
      return close_now();
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset)
      return close_now();
    // Anything else the parser refused is a malformed request.
    if (&ec.category() == &http::make_error_code(http::error::bad_target).category())
      return send_error(400, "malformed HTTP request: " + ec.message());
    close_now();
  }

  void send_error(int status, const std::string &detail) {
    http_response r = srv_.errors(status, detail);
    r.headers["Connection"] = "close";
    write(std::move(r), false, 11);
  }

  void handle() {
    auto &req = parser_->get();
    http_request in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    for (const auto &f : req) {
      std::string name(f.name_string());
      for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [it, fresh] = in.headers.emplace(name, std::string(f.value()));
      if (!fresh) it->second += ", " + std::string(f.value());
    }
    in.body = std::move(req.body());
    in.peer = peer_;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    // Handlers block (a write waits for its group commit), so they run on
    // the handler pool, not on an I/O thread; the work guard keeps io.run()
    // going until the response is posted back.
    asio::post(srv_.workers, [self = this->shared_from_this(), in = std::move(in), keep_alive, version,
                              work = asio::make_work_guard(srv_.io)]() mutable {
      auto out = std::make_shared<http_response>();
      try {
        *out = self->srv_.handler(in);
      } catch (const std::exception &e) {
        log_line(std::string("request failed: ") + e.what());
        *out = self->srv_.errors(500, "internal error");
      } catch (...) {
        *out = self->srv_.errors(500, "internal error");
      }
      asio::post(self->stream_.get_executor(), [self, out, keep_alive, version] {
        self->write(std::move(*out), keep_alive && !self->srv_.draining, version);
      });
    });
  }

  void write(http_response r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    for (const auto &[k, v] : r.headers) res->set(k, v);
    res->set(http::field::server, "reclaim-scimd");
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(srv_.cfg.limits.body_timeout);
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) return self->close_now();
      if (!res->keep_alive()) return self->finish();
      self->wait_request();
    });
  }

  void finish() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      if (closed_) return;
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      close_now();
    }
  }
};

} // namespace

void http_server::impl::on_session_end(std::uint64_t id) {
  std::size_t left;
  {
    std::lock_guard lock(mu);
    sessions.erase(id);
    left = --active;
  }
  if (draining && left == 0) asio::post(strand, [this] { drain_timer.cancel(); });
}

void http_server::impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || draining) return;
      log_line("accept: " + ec.message());
      return accept();
    }
    beast::error_code pe;
    const auto ep = socket.remote_endpoint(pe);
    const std::string peer = pe ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    if (draining) return;
    std::uint64_t id;
    {
      std::lock_guard lock(mu);
      if (active >= cfg.limits.max_connections) {
        // Over the cap: a short 503 (best effort, never blocking) and close.
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        socket.non_blocking(true, pe);
        if (!cfg.tls()) socket.write_some(asio::buffer(busy, sizeof busy - 1), pe);
        socket.close(pe);
        log_line("connection from " + peer + " refused: " + std::to_string(cfg.limits.max_connections) +
                 " connections open (scim_server.limits.max_connections)");
        return accept();
      }
      id = next_id++;
      ++active;
    }
    socket.set_option(tcp::no_delay(true), pe);
    std::shared_ptr<session_base> s;
    if (tls) {
      auto ss = std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(
          *this, id, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls), peer);
      s = ss;
      { std::lock_guard lock(mu); sessions[id] = s; }
      ss->start();
    } else {
      auto ps = std::make_shared<session<beast::tcp_stream>>(*this, id, beast::tcp_stream(std::move(socket)), peer);
      s = ps;
      { std::lock_guard lock(mu); sessions[id] = s; }
      ps->start();
    }
    accept();
  });
}

http_server::http_server(const scimd_config &cfg, http_handler handler, error_responder errors)
    : impl_(std::make_unique<impl>()) {
  impl_->cfg = cfg;
  impl_->handler = std::move(handler);
  impl_->errors = std::move(errors);
  if (cfg.tls()) {
    impl_->tls.emplace(ssl::context::tls_server);
    auto &ctx = *impl_->tls;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    try {
      ctx.use_certificate_chain_file(cfg.tls_cert);
      ctx.use_private_key_file(cfg.tls_key, ssl::context::pem);
      if (!cfg.client_ca.empty()) {
        ctx.load_verify_file(cfg.client_ca);
        ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      }
    } catch (const std::exception &e) {
      throw std::runtime_error("TLS setup (scim_server.tls_cert/tls_key/client_ca): " + std::string(e.what()));
    }
  }
  beast::error_code ec;
  const auto addr = asio::ip::make_address(cfg.listen_host, ec);
  if (ec) throw std::runtime_error("listen address " + cfg.listen_host + ": " + ec.message());
  const tcp::endpoint ep(addr, cfg.listen_port);
  auto &a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + cfg.listen_host + ":" + std::to_string(cfg.listen_port) + ": " + ec.message());
}

http_server::~http_server() = default;

std::uint16_t http_server::port() const { return impl_->acceptor.local_endpoint().port(); }

void http_server::run() {
  impl_->accept();
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < impl_->cfg.limits.threads; ++i)
    extra.emplace_back([this] {
      try {
        impl_->io.run();
      } catch (const std::exception &e) {
        log_line(std::string("I/O thread: ") + e.what());
      }
    });
  try {
    impl_->io.run();
  } catch (const std::exception &e) {
    log_line(std::string("I/O thread: ") + e.what());
  }
  for (auto &t : extra) t.join();
  impl_->workers.join();
}

void http_server::stop() {
  asio::post(impl_->strand, [this] {
    if (impl_->draining.exchange(true)) return;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->each_session([](auto &s) { s->drain(); });
    if (impl_->active == 0) return;
    impl_->drain_timer.expires_after(impl_->cfg.limits.drain_timeout);
    impl_->drain_timer.async_wait([this](beast::error_code wec) {
      if (wec) return; // every connection ended first
      log_line("drain timeout: closing connections still open");
      impl_->each_session([](auto &s) { s->force_close(); });
    });
  });
}

} // namespace reclaim::scimd
