#include "sluice/core/byte_size.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::core {
namespace {

std::uint64_t bytes(std::string_view text) {
  auto result = parse_byte_size(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? result->bytes : 0;
}

std::string error_of(std::string_view text) {
  auto result = parse_byte_size(text);
  EXPECT_FALSE(result.ok()) << text << " parsed as " << result.value_or({}).bytes;
  return result.ok() ? "" : result.error().message;
}

TEST(ParseByteSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(bytes("16MiB"), 16u << 20);
  EXPECT_EQ(bytes("64KiB"), 64u << 10);
  EXPECT_EQ(bytes("1MB"), 1'000'000u);
  EXPECT_EQ(bytes("1kB"), 1'000u);
  EXPECT_EQ(bytes("2GiB"), 2ull << 30);
  EXPECT_EQ(bytes("1TB"), 1'000'000'000'000ull);
  EXPECT_EQ(bytes("512B"), 512u);
  EXPECT_EQ(bytes("512"), 512u);
  EXPECT_EQ(bytes("16 MiB"), 16u << 20);
  EXPECT_EQ(bytes("1.5KiB"), 1536u);
  EXPECT_EQ(bytes("18446744073709551615"), UINT64_MAX);
}

TEST(ParseByteSize, Rejects) {
  EXPECT_NE(error_of("1.3B").find("whole number of bytes"), std::string::npos);
  EXPECT_NE(error_of("-1KiB").find("negative"), std::string::npos);
  EXPECT_NE(error_of("16 mib").find("unknown unit 'mib'"), std::string::npos);
  EXPECT_NE(error_of("16MiBs").find("unknown unit"), std::string::npos);
  EXPECT_NE(error_of("1KiB2").find("unexpected text"), std::string::npos);
  EXPECT_NE(error_of("18446744073709551616").find("too large"), std::string::npos);
  EXPECT_NE(error_of("20000000TiB").find("too large"), std::string::npos);
  EXPECT_NE(error_of("big").find("expected a number"), std::string::npos);
}

TEST(FormatByteSize, RoundTrips) {
  EXPECT_EQ(format_byte_size(ByteSize{16u << 20}), "16MiB");
  EXPECT_EQ(format_byte_size(ByteSize{1000}), "1000B");
  EXPECT_EQ(format_byte_size(ByteSize{0}), "0B");
  for (std::uint64_t n : std::vector<std::uint64_t>{1, 1024, 1536, 3ull << 40, UINT64_MAX}) {
    EXPECT_EQ(bytes(format_byte_size(ByteSize{n})), n);
  }
}

}  // namespace
}  // namespace sluice::core
