#pragma once
// The prompt log's JSON Lines file: appended in batches, rotated by size like logrotate's
// `size` + `rotate N` (file → file.1 → ... → file.<keep>, the oldest deleted).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace sluice::gateway {

class RotatingFile {
 public:
  // Opens nothing yet: the file is created on the first write, so a missing directory is reported
  // (and retried) by write() rather than failing the gateway's start.
  RotatingFile(std::filesystem::path path, std::uint64_t rotate_bytes, int keep);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Appends `lines` (each ending in '\n'), rotating first whenever the next line would take the
  // file past rotate_bytes (a line longer than that gets a file of its own). Returns how many
  // lines reached the file; on an I/O error sets `error` and the lines of the failed write are
  // lost (the next call reopens the file). One thread at a time.
  std::size_t write(std::span<const std::string> lines, std::string& error);

  const std::filesystem::path& path() const { return path_; }

 private:
  bool open(std::string& error);
  bool flush(std::string& buffer, std::string& error);
  bool rotate(std::string& error);
  void close();

  std::filesystem::path path_;
  std::uint64_t rotate_bytes_;
  int keep_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace sluice::gateway
