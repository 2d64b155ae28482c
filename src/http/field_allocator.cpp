#include "sluice/http/field_allocator.hpp"

namespace sluice::http::field_pool {

constinit thread_local ThreadCache thread_cache{};

namespace {

// Gives a thread's kept blocks back to operator delete when the thread ends. Its destructor is
// registered on the thread's first allocation; ThreadCache itself has none, so frees that come
// later in the thread's exit still find it (then kExited: they go straight to operator delete).
struct ReleaseAtExit {
  ~ReleaseAtExit() {
    ThreadCache& cache = thread_cache;
    cache.state = CacheState::kExited;
    for (std::size_t size_class = 0; size_class < kClasses; ++size_class) {
      while (FreeBlock* block = cache.head[size_class]) {
        cache.head[size_class] = block->next;
        ::operator delete(block, class_size(size_class));
      }
      cache.kept[size_class] = 0;
    }
  }
};

}  // namespace

void* allocate_new(std::size_t size_class) {
  ThreadCache& cache = thread_cache;
  if (cache.state == CacheState::kUnused) {
    thread_local ReleaseAtExit release_at_exit;
    (void)release_at_exit;  // constructing it registers its destructor
    cache.state = CacheState::kKeeping;
  }
  return ::operator new(class_size(size_class));
}

void release(void* block, std::size_t size_class) noexcept {
  ::operator delete(block, class_size(size_class));
}

}  // namespace sluice::http::field_pool
