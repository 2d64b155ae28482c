#pragma once
// The allocator of every HTTP message's field set (http::Fields in asio.hpp). Beast's basic_fields
// allocates each field (its list and tree hooks, name and value: 64 bytes to ~1 KiB) and the
// request target on its own, and frees each when the message goes: ~20 fields a proxied request
// (the client's request, the upstream request built from it, the upstream's answer). Through
// mimalloc each cost ~66 instructions to allocate and free (docs/performance.md, "Allocations a
// request, counted"). Here each thread keeps freed blocks in six size classes (64 bytes to 2 KiB)
// and hands them out again first: a pop or a push on a list only the thread touches.
//
// Under AddressSanitizer every block goes to operator new and back, so that a field read after its
// message is gone is still caught.
//
// Any thread may free a block another allocated: it joins the freeing thread's lists, or goes back
// to operator delete when those are full (a fixed share of 32 KiB per class, ~190 KiB a thread at
// most) or the thread is exiting. A thread that only frees (never allocated) keeps nothing, so
// nothing is left behind when it ends. Blocks past 2 KiB come from operator new and go back to it.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace sluice::http {

namespace field_pool {

inline constexpr std::size_t kClasses = 6;
inline constexpr std::size_t kSmallest = 64;
inline constexpr std::size_t kLargest = kSmallest << (kClasses - 1);  // 2 KiB
inline constexpr std::size_t kKeptBytesPerClass = 32 * 1024;

inline constexpr std::size_t class_size(std::size_t size_class) noexcept {
  return kSmallest << size_class;
}

// The smallest class whose blocks hold `bytes` (1 to kLargest).
inline constexpr std::size_t class_of(std::size_t bytes) noexcept {
  return static_cast<std::size_t>(std::bit_width((bytes - 1) / kSmallest));
}

struct FreeBlock {
  FreeBlock* next;
};

enum class CacheState : std::uint8_t { kUnused, kKeeping, kExited };

// Trivially constructed and destroyed, so that reading it needs no guard and a message freed
// while the thread's destructors run finds it still there (then kExited: nothing is kept).
struct ThreadCache {
  FreeBlock* head[kClasses];
  std::uint32_t kept[kClasses];
  CacheState state;
};

extern constinit thread_local ThreadCache thread_cache;

// The slow paths: a new block from operator new (and, on the thread's first, the registration of
// the release of its lists at thread exit); a block returned to operator delete.
void* allocate_new(std::size_t size_class);
void release(void* block, std::size_t size_class) noexcept;

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kKeepBlocks = false;
#else
inline constexpr bool kKeepBlocks = true;
#endif

inline void* allocate(std::size_t bytes) {
  if (!kKeepBlocks || bytes - 1 >= kLargest)
    return ::operator new(bytes);  // past 2 KiB, or nothing at all
  const std::size_t size_class = class_of(bytes);
  ThreadCache& cache = thread_cache;
  if (FreeBlock* block = cache.head[size_class]) {
    cache.head[size_class] = block->next;
    --cache.kept[size_class];
    return block;
  }
  return allocate_new(size_class);
}

inline void deallocate(void* block, std::size_t bytes) noexcept {
  if (!kKeepBlocks || bytes - 1 >= kLargest) {
    ::operator delete(block, bytes);
    return;
  }
  const std::size_t size_class = class_of(bytes);
  ThreadCache& cache = thread_cache;
  if (cache.state == CacheState::kKeeping &&
      cache.kept[size_class] < kKeptBytesPerClass / class_size(size_class)) {
    auto* free_block = static_cast<FreeBlock*>(block);
    free_block->next = cache.head[size_class];
    cache.head[size_class] = free_block;
    ++cache.kept[size_class];
    return;
  }
  release(block, size_class);
}

}  // namespace field_pool

// A stateless standard allocator over field_pool: every instance is interchangeable, so messages
// move their fields without copying them, whichever thread made them.
template <class T>
class FieldAllocator {
 public:
  using value_type = T;
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;

  FieldAllocator() noexcept = default;
  template <class U>
  FieldAllocator(const FieldAllocator<U>&) noexcept {}

  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                "field_pool's blocks have operator new's alignment");

  T* allocate(std::size_t n) { return static_cast<T*>(field_pool::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { field_pool::deallocate(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const FieldAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace sluice::http
