#include "sluice/http/field_allocator.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "sluice/http/asio.hpp"

namespace sluice::http {
namespace {

using field_pool::class_of;
using field_pool::thread_cache;

// Under AddressSanitizer nothing is kept (field_allocator.hpp): the tests of keeping skip.
#define SKIP_UNLESS_BLOCKS_ARE_KEPT() \
  if (!field_pool::kKeepBlocks) GTEST_SKIP() << "blocks are not kept under AddressSanitizer"

TEST(FieldAllocatorTest, SizesFallIntoTheSmallestClassThatHoldsThem) {
  EXPECT_EQ(class_of(1), 0u);
  EXPECT_EQ(class_of(64), 0u);
  EXPECT_EQ(class_of(65), 1u);
  EXPECT_EQ(class_of(128), 1u);
  EXPECT_EQ(class_of(129), 2u);
  EXPECT_EQ(class_of(256), 2u);
  EXPECT_EQ(class_of(257), 3u);
  EXPECT_EQ(class_of(1024), 4u);
  EXPECT_EQ(class_of(1025), 5u);
  EXPECT_EQ(class_of(2048), 5u);
}

TEST(FieldAllocatorTest, AFreedBlockIsHandedOutAgainForTheNextOfItsClass) {
  SKIP_UNLESS_BLOCKS_ARE_KEPT();
  void* first = field_pool::allocate(100);
  const auto kept = thread_cache.kept[1];
  field_pool::deallocate(first, 100);
  EXPECT_EQ(thread_cache.kept[1], kept + 1);
  void* second = field_pool::allocate(120);  // the same class (65-128 bytes)
  EXPECT_EQ(second, first);
  EXPECT_EQ(thread_cache.kept[1], kept);
  field_pool::deallocate(second, 120);
}

TEST(FieldAllocatorTest, BlocksPastTheLargestClassAndEmptyOnesGoToOperatorNew) {
  const auto kept = thread_cache.kept[5];
  void* big = field_pool::allocate(4096);
  ASSERT_NE(big, nullptr);
  static_cast<char*>(big)[4095] = 'x';
  field_pool::deallocate(big, 4096);
  EXPECT_EQ(thread_cache.kept[5], kept);
  void* empty = field_pool::allocate(0);
  field_pool::deallocate(empty, 0);
}

TEST(FieldAllocatorTest, AClassKeepsNoMoreThanItsShare) {
  SKIP_UNLESS_BLOCKS_ARE_KEPT();
  const std::size_t share = field_pool::kKeptBytesPerClass / field_pool::class_size(0);
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < share + 50; ++i) blocks.push_back(field_pool::allocate(48));
  for (void* block : blocks) field_pool::deallocate(block, 48);
  EXPECT_EQ(thread_cache.kept[0], share);
}

TEST(FieldAllocatorTest, AThreadThatOnlyFreesKeepsNothing) {
  std::vector<void*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(field_pool::allocate(200));
  std::uint32_t kept_there = 99;
  std::thread other([&] {
    for (void* block : blocks) field_pool::deallocate(block, 200);
    kept_there = thread_cache.kept[2];
  });
  other.join();
  EXPECT_EQ(kept_there, 0u);
}

TEST(FieldAllocatorTest, AThreadThatAllocatedKeepsWhatItFreesUntilItEnds) {
  SKIP_UNLESS_BLOCKS_ARE_KEPT();
  std::vector<void*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(field_pool::allocate(300));
  std::uint32_t kept_there = 0;
  std::thread other([&] {
    field_pool::deallocate(field_pool::allocate(300), 300);  // this thread now keeps blocks
    for (void* block : blocks) field_pool::deallocate(block, 300);
    kept_there = thread_cache.kept[3];
  });
  other.join();  // and gives them back to operator delete as it ends (ASan would see a leak)
  EXPECT_EQ(kept_there, 11u);
}

TEST(FieldAllocatorTest, MessagesMoveAndCopyTheirFieldsAcrossThreads) {
  Request request{bhttp::verb::post, "/openai/deployments/gpt-4o-mini/chat/completions", 11};
  request.set(Field::host, "example.test");
  request.set(Field::authorization, "Bearer " + std::string(900, 't'));  // a class of its own
  request.set("x-team", "blue");
  Request copy = request;
  Request moved;
  std::thread other([&] { moved = std::move(request); });
  other.join();
  EXPECT_EQ(moved[Field::host], "example.test");
  EXPECT_EQ(moved["x-team"], "blue");
  EXPECT_EQ(copy[Field::authorization].size(), 907u);
  EXPECT_EQ(copy.target(), moved.target());
  copy.erase(Field::authorization);
  EXPECT_EQ(copy.count(Field::authorization), 0u);
}

}  // namespace
}  // namespace sluice::http
