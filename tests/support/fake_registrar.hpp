// tests/support/fake_registrar.hpp — an in-process SIP registrar on 127.0.0.1 for the unit
// tests of probe's I/O code (registration, reach, batch), in the manner of netcheck's fakes
// (tests/netcheck/transport_fakes.hpp, fake_dns.hpp): UDP and TCP on one ephemeral port,
// TLS on another when given a certificate, every request recorded, each answer scripted.
//
// It runs on the test's io_context, the one the code under test runs on, not on a thread
// of its own. Everything then happens in one order on one thread: a test reads the record
// without locks or sleeps, a scripted delay is a timer on the client's own clock, and a
// failing test fails the same way every time. (A blocking call in the code under test
// would stall the fake too; that code never blocks.)
//
// Built from the project's own sip/: requests are read with sip::parse (strict, so a
// request the project's parser refuses is recorded in rejected(): a client bug), answers
// are sip::message_view values written by sip::serialize, challenges are parsed back with
// sip::parse_challenges and answers to them checked with sip::verify_credentials.
//
// Server transactions (RFC 3261 §17.2.2): a retransmission of a request that already got
// a final response gets that response again, without the script; any other request (a
// retransmission of one that did not) goes to the script. Without a script the fake acts
// as a registrar: registrar() below.
#pragma once

#include "netcheck/common.hpp"
#include "netcheck/tls_pki.hpp"
#include "sip/digest.hpp"
#include "sip/message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

// One request as it arrived.
struct sip_request {
  sip::owned_message msg;
  netcheck::transport over = netcheck::transport::udp;
  std::size_t connection = 0;  // TCP/TLS: 1-based number of the connection; 0 for UDP
  int copy = 0;                // 0: the first; n: the n-th retransmission of it (same branch and CSeq)
  std::string source;          // "127.0.0.1:40312"
  std::chrono::steady_clock::time_point at;

  const sip::message_view& view() const noexcept { return msg.view(); }
  std::string method() const { return std::string(view().method); }
  std::uint32_t cseq() const;  // 0 when unreadable
  std::string call_id() const;
  std::string branch() const;  // of the top Via
  std::string from_tag() const;
  std::optional<std::uint32_t> expires() const;          // the Expires header
  std::vector<std::string> contacts() const;             // Contact URIs as written ("*" for a star)
  std::optional<std::uint32_t> contact_expires() const;  // ;expires= of the first Contact
  std::string header(std::string_view name) const;       // the first value, "" when absent
  bool has(std::string_view name) const { return view().find(name) != nullptr; }
  // Authorization (or Proxy-Authorization) parsed; nullopt when absent or unreadable.
  std::optional<sip::digest_credentials> credentials(bool proxy = false) const;
};

// A response to `req`, echoing what RFC 3261 §8.2.6.2 says a response copies: every Via,
// From, To (with a To tag, except on 100), Call-ID and CSeq; Content-Length: 0 last.
class response {
 public:
  response(const sip_request& req, int status, std::string reason = {});  // {}: the usual phrase
  response& header(std::string name, std::string value);
  // Replaces the value of the first header named `name` (what a rewriting middlebox does).
  response& replace(std::string_view name, std::string value);
  response& contact(const std::string& uri, std::optional<std::uint32_t> expires = std::nullopt);
  std::string wire() const;

 private:
  int status_;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// What the fake does with one request: send `messages` (responses, or any bytes) after
// `delay`, then, on TCP/TLS, close the connection when `close` is set. No messages: silence.
struct answer {
  std::vector<std::string> messages;
  std::chrono::milliseconds delay{0};
  bool close = false;

  answer() = default;
  answer(std::string message) { messages.push_back(std::move(message)); }  // NOLINT: one response
  answer(const response& r) : answer(r.wire()) {}                          // NOLINT: one response
  static answer silence() { return {}; }
  answer& after(std::chrono::milliseconds d) { return delay = d, *this; }
  answer& then_close() { return close = true, *this; }
};

// One Digest challenge the fake sends (RFC 7616 §3.3). `algorithm` and `qop` are written
// as given: "" leaves the parameter out (MD5, and the RFC 2069 form without qop).
struct challenge_spec {
  bool proxy = false;  // 407 Proxy-Authenticate instead of 401 WWW-Authenticate
  std::string realm = "sip.test";
  std::string algorithm = "MD5";
  std::string qop = "auth";
  bool stale = false;
  std::optional<std::string> opaque;
};

// A binding the built-in registrar holds.
struct fake_binding {
  std::string contact;  // URI as registered
  std::uint32_t expires = 0;
};

// A certificate for the fake's TLS listener, signed by a CA made for the test, and that
// CA in a PEM file for the client to trust (route --ca-file, tls_options::ca_file). The
// certificate names sip.test and 127.0.0.1.
struct fake_pki {
  test_pki::temp_dir dir;
  test_pki::identity ca = test_pki::issue("fake registrar CA", nullptr, true, "", -1, 30);
  test_pki::identity leaf = test_pki::issue("sip.test", &ca, false, "DNS:sip.test,IP:127.0.0.1", -1, 30);
  std::string ca_file = (dir.path / "ca.pem").string();

  fake_pki() { test_pki::write_pem(ca_file, ca.cert.get()); }
};

class fake_registrar {
 public:
  using script = std::function<answer(const sip_request&)>;

  // Listens on UDP and TCP 127.0.0.1 (one port), and on TLS with `tls` as its certificate.
  explicit fake_registrar(boost::asio::io_context& io, const test_pki::identity* tls = nullptr);
  ~fake_registrar();
  fake_registrar(const fake_registrar&) = delete;
  fake_registrar& operator=(const fake_registrar&) = delete;

  std::uint16_t port() const noexcept { return port_; }  // UDP and TCP
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // What to do with each request (see above); an empty script restores registrar().
  void on_request(script s) { script_ = std::move(s); }

  // ---- the built-in registrar, and its parts for scripts -------------------------------
  // Challenges a request without valid credentials for an account (challenges, 401 or 407
  // per their proxy flag), answers 423 below min_expires, then applies the Contacts
  // (RFC 3261 §10.3: ;expires, else Expires, else 3600, capped at max_expires; 0 removes,
  // "*" with Expires 0 removes all) and answers 200 listing the AOR's bindings, each with
  // its expires. A request without Contact only lists them (a query).
  answer registrar(const sip_request& r);
  void add_account(std::string user, std::string password) { accounts_[std::move(user)] = std::move(password); }
  std::vector<challenge_spec> challenges{challenge_spec{}};
  std::uint32_t min_expires = 0;     // 0: no 423
  std::uint32_t max_expires = 3600;  // the most a binding is granted

  // A 401/407 carrying one challenge per spec (all 401s or all 407s), each with a fresh
  // nonce the fake remembers for verify().
  response challenge(const sip_request& r, const std::vector<challenge_spec>& specs);
  // Checks the Authorization (or Proxy-Authorization) of `r` against the challenge of its
  // nonce, with the password of its username and the Request-URI as digest-uri. An unknown
  // nonce or username: response_ok false and a detail saying so.
  sip::digest_verify_result verify(const sip_request& r, bool proxy = false) const;
  // Applies the Contacts of `r` and answers 200 with the AOR's bindings.
  response bind(const sip_request& r);
  // The bindings per AOR ("alice@sip.test"), seeded or registered.
  std::map<std::string, std::vector<fake_binding>>& bindings() noexcept { return bindings_; }
  std::size_t binding_count() const noexcept;

  // ---- routing to bindings, as a registrar routes calls (RFC 3261 §16) ------------------
  // With `relay` set, a request other than REGISTER whose Request-URI names an account
  // ("sip:alice@sip.test") is not answered by the fake: 404 for an unknown user, 480 when
  // it has no binding, otherwise it goes, under a Via of the fake's, back where the AOR's
  // latest REGISTER came from (its UDP source, or its TCP/TLS connection: RFC 5626 reuse),
  // and the response comes back to the caller without that Via; 408 after relay_timeout.
  // `ping_before_relay` sends a CRLF keep-alive ping (RFC 5626 §4.4.1) first on a stream.
  bool relay = false;
  bool ping_before_relay = false;
  std::chrono::milliseconds relay_timeout{400};
  std::size_t relayed() const noexcept { return relayed_; }  // requests sent to a binding
  // Responses that came back from a binding, and CRLF keep-alives (pongs) received.
  const std::vector<std::string>& relayed_responses() const noexcept { return relayed_responses_; }
  std::size_t keepalives_received() const noexcept { return keepalives_; }

  // ---- what happened ----------------------------------------------------------------
  const std::vector<sip_request>& requests() const noexcept { return requests_; }
  // The first copies only (no retransmissions), in arrival order.
  std::vector<const sip_request*> firsts() const;
  // Bytes that arrived and sip::parse refused, with the reason.
  const std::vector<std::string>& rejected() const noexcept { return rejected_; }
  // Transactions received and not yet answered with a final response (one that is never
  // answered stays in flight), now and at the most.
  std::size_t in_flight() const noexcept { return open_.size(); }
  std::size_t max_in_flight() const noexcept { return max_in_flight_; }
  std::size_t connections() const noexcept { return connections_; }
  // Closes every TCP/TLS connection now (a registrar that restarts).
  void close_connections();

 private:
  class connection;
  template <class Stream>
  class stream_connection;

  void receive_udp();
  void accept_tcp();
  void accept_tls();
  // A request (or bytes that should have been one) arrived; `reply` sends on its way back.
  void on_bytes(std::string bytes, netcheck::transport over, std::size_t conn, std::string source,
                std::function<void(const std::string&)> reply, std::function<void()> close);
  void deliver(std::string key, answer a, std::function<void(const std::string&)> reply, std::function<void()> close);
  std::string aor_of(const sip_request& r) const;
  // `relay` above: true when it took the request.
  bool route_to_binding(const sip_request& r, const std::function<void(const std::string&)>& reply);
  void on_relayed_response(const std::string& bytes);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  std::unique_ptr<boost::asio::ssl::context> tls_ctx_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tls_;
  std::uint16_t port_ = 0, tls_port_ = 0;
  std::array<char, 65536> buf_{};
  boost::asio::ip::udp::endpoint peer_;
  std::vector<std::weak_ptr<connection>> open_connections_;
  std::set<std::string> scripted_;                              // transaction keys the script answered (or is about to)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // delayed answers check it

  script script_;
  std::map<std::string, std::string> accounts_;
  std::map<std::string, sip::digest_challenge> nonces_;  // issued, by nonce
  std::uint64_t next_nonce_ = 0;
  std::map<std::string, std::vector<fake_binding>> bindings_;

  std::vector<sip_request> requests_;
  std::vector<std::string> rejected_;
  std::map<std::string, int> copies_;          // transaction key → copies seen
  std::map<std::string, std::string> finals_;  // transaction key → final response sent
  std::set<std::string> open_;                 // transaction keys without a final response
  std::size_t max_in_flight_ = 0;
  std::size_t connections_ = 0;
  std::map<std::string, std::function<void(const std::string&)>> flows_;  // AOR → its latest REGISTER's way back
  struct relay_state {
    std::function<void(const std::string&)> reply;
    bool done = false;
  };
  std::map<std::string, std::shared_ptr<relay_state>> relays_;  // our Via branch → the caller
  std::size_t relayed_ = 0;
  std::vector<std::string> relayed_responses_;
  std::size_t keepalives_ = 0;
};

}  // namespace test_support
