#pragma once
// Estimated prompt tokens of an image part of a chat message.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::tokenizer {

struct ImageSize {
  std::uint32_t width;
  std::uint32_t height;
};

// The pixel size of a PNG, GIF, JPEG or WebP image given as a base64 data: URL, read from its
// header (only a bounded prefix of the URL is decoded). Nothing for other URLs or formats.
std::optional<ImageSize> image_size_from_url(std::string_view url);

struct ImageTokens {
  std::size_t tokens;
  bool from_size;  // the tile formula was applied to a known size
};

// OpenAI's published image cost ("Calculating costs", vision guide): detail "low" costs the base
// tokens; otherwise the image is scaled to fit 2048x2048, then down so its shortest side is at
// most 768, and each 512px tile costs the tile tokens on top of the base. Base/tile are 85/170,
// or 2833/5667 for gpt-4o-mini. An unknown size with detail other than "low" is charged the base
// cost only (documented as an underestimate for large images).
ImageTokens image_prompt_tokens(std::optional<ImageSize> size, std::string_view detail,
                                std::string_view model);

}  // namespace sluice::tokenizer
