#pragma once
// The last text a thread worked out a result from, and the result: for a pure function of a text
// that runs on every request and mostly sees the same text (a worker's requests name one
// deployment and one API version), so that the same bytes again cost one comparison and a copy of
// the result instead of the work. Exact: the kept text is compared in full. Texts longer than
// kMaxKept are worked out every time and not kept, which bounds what a thread holds.
//
// One object per thread (declare it thread_local); it takes no lock.
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::core {

template <class Result, std::size_t kMaxKept = 1024>
class LastResult {
 public:
  // compute(text) for this text: the kept result when `text` is the text it was worked out from.
  template <class Compute>
  Result get(std::string_view text, Compute&& compute) {
    if (valid_ && text == text_) return result_;
    Result result = compute(text);
    if (text.size() <= kMaxKept) {
      text_.assign(text);
      result_ = result;
      valid_ = true;
    }
    return result;
  }

 private:
  std::string text_;
  Result result_{};
  bool valid_ = false;
};

}  // namespace sluice::core
