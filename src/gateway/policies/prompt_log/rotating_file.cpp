#include "gateway/policies/prompt_log/rotating_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::gateway {

namespace {

std::filesystem::path numbered(const std::filesystem::path& path, int n) {
  auto out = path;
  out += "." + std::to_string(n);
  return out;
}

}  // namespace

RotatingFile::RotatingFile(std::filesystem::path path, std::uint64_t rotate_bytes, int keep)
    : path_(std::move(path)), rotate_bytes_(rotate_bytes), keep_(keep) {}

RotatingFile::~RotatingFile() {
  close();
}

void RotatingFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RotatingFile::open(std::string& error) {
  if (fd_ >= 0) return true;
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    error = "cannot open " + path_.string() + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return true;
}

bool RotatingFile::flush(std::string& buffer, std::string& error) {
  const char* p = buffer.data();
  std::size_t left = buffer.size();
  while (left > 0) {
    auto n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + path_.string() + ": " + std::strerror(errno);
      close();
      buffer.clear();
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
    size_ += static_cast<std::uint64_t>(n);
  }
  buffer.clear();
  return true;
}

bool RotatingFile::rotate(std::string& error) {
  close();
  std::error_code ec;
  if (keep_ <= 0) {
    std::filesystem::remove(path_, ec);
  } else {
    std::filesystem::remove(numbered(path_, keep_), ec);
    for (int i = keep_ - 1; i >= 1; --i) {
      if (std::filesystem::exists(numbered(path_, i), ec)) {
        std::filesystem::rename(numbered(path_, i), numbered(path_, i + 1), ec);
      }
    }
    std::filesystem::rename(path_, numbered(path_, 1), ec);
  }
  if (ec) {
    error = "cannot rotate " + path_.string() + ": " + ec.message();
    return false;
  }
  return open(error);
}

std::size_t RotatingFile::write(std::span<const std::string> lines, std::string& error) {
  if (!open(error)) return 0;
  std::string buffer;
  std::size_t written = 0;
  std::size_t buffered = 0;
  for (const auto& line : lines) {
    bool full = size_ + buffer.size() + line.size() > rotate_bytes_;
    if (full && size_ + buffer.size() > 0) {
      if (!flush(buffer, error)) return written;
      written += buffered;
      buffered = 0;
      if (!rotate(error)) return written;
    }
    buffer += line;
    ++buffered;
  }
  if (!flush(buffer, error)) return written;
  return written + buffered;
}

}  // namespace sluice::gateway
