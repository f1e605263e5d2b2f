// Reading the accounts file on a thread of its own (see input.hpp).
#include "probe/batch/input.hpp"

#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <istream>
#include <streambuf>
#include <system_error>

namespace probe::batch {
namespace {

// A streambuf over a descriptor that gives up (end of input) when `stop_fd` becomes
// readable; `error` says why reading failed, if it did.
class fd_streambuf : public std::streambuf {
 public:
  fd_streambuf(int fd, int stop_fd, std::error_code& error) : fd_(fd), stop_fd_(stop_fd), error_(error) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        error_.assign(errno, std::generic_category());
        return traits_type::eof();
      }
      if (fds[1].revents != 0) return traits_type::eof();  // stopped
      const auto n = ::read(fd_, buf_.data(), buf_.size());
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        error_.assign(errno, std::generic_category());
        return traits_type::eof();
      }
      if (n == 0) return traits_type::eof();
      setg(buf_.data(), buf_.data(), buf_.data() + n);
      return traits_type::to_int_type(*gptr());
    }
  }

 private:
  int fd_, stop_fd_;
  std::error_code& error_;
  std::array<char, 64 * 1024> buf_{};
};

}  // namespace

record_feed::record_feed(boost::asio::io_context& io, int fd, std::size_t capacity, std::function<void()> on_ready)
    : io_(io), fd_(fd), capacity_(capacity == 0 ? 1 : capacity), on_ready_(std::move(on_ready)) {
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  // The loop must not run out of work while records may still come.
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { read_loop(); });
}

record_feed::~record_feed() {
  stop();
  if (thread_.joinable()) thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void record_feed::stop() noexcept {
  {
    std::lock_guard lock(m_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  const char c = 's';
  [[maybe_unused]] auto n = ::write(stop_pipe_[1], &c, 1);
  work_.reset();
}

void record_feed::read_loop() {
  std::error_code read_error;
  fd_streambuf sb(fd_, stop_pipe_[0], read_error);
  std::istream in(&sb);
  csv_reader reader(in);
  for (;;) {
    csv_record r;
    const bool got = reader.next(r);
    std::unique_lock lock(m_);
    if (queue_.size() >= capacity_) {
      // Full: wait until the loop has taken half, so the two threads meet once per
      // capacity/2 records rather than once per record (each meeting is a futex call).
      reader_waiting_ = true;
      cv_.wait(lock, [this] { return stopping_ || queue_.size() <= low_water(); });
      reader_waiting_ = false;
    }
    if (stopping_) return;
    if (got) queue_.push_back(std::move(r));
    else end_ = true, error_ = read_error;
    cv_.notify_all();  // take_blocking
    if (waiting_) {
      waiting_ = false;
      boost::asio::post(io_, on_ready_);
    }
    if (!got) return;
  }
}

record_feed::status record_feed::take(csv_record& r) {
  std::lock_guard lock(m_);
  if (!queue_.empty()) {
    r = std::move(queue_.front());
    queue_.pop_front();
    if (reader_waiting_ && queue_.size() <= low_water()) cv_.notify_all();
    return status::record;
  }
  if (end_ || stopping_) {
    work_.reset();
    return status::end;
  }
  waiting_ = true;
  return status::later;
}

bool record_feed::take_blocking(csv_record& r) {
  std::unique_lock lock(m_);
  cv_.wait(lock, [this] { return !queue_.empty() || end_ || stopping_; });
  if (queue_.empty()) return false;
  r = std::move(queue_.front());
  queue_.pop_front();
  cv_.notify_all();
  return true;
}

std::error_code record_feed::error() const {
  std::lock_guard lock(m_);
  return error_;
}

}  // namespace probe::batch
