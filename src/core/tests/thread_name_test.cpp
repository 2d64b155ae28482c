#include "sluice/core/thread_name.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::core {
namespace {

std::string name_of_this_thread() {
  char buffer[16] = {};
  pthread_getname_np(pthread_self(), buffer, sizeof buffer);
  return buffer;
}

TEST(ThreadName, NamesTheCallingThreadAndCutsLongNamesAtFifteenBytes) {
  std::string short_name, long_name;
  std::thread([&] {
    name_this_thread("usage-shipper");
    short_name = name_of_this_thread();
    name_this_thread("a-name-longer-than-fifteen-bytes");
    long_name = name_of_this_thread();
  }).join();
  EXPECT_EQ(short_name, "usage-shipper");
  EXPECT_EQ(long_name, "a-name-longer-t");
  EXPECT_NE(name_of_this_thread(), "usage-shipper") << "only the calling thread is named";
}

}  // namespace
}  // namespace sluice::core
