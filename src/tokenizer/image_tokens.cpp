#include "tokenizer/image_tokens.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "tokenizer/base64.hpp"

namespace sluice::tokenizer {
namespace {

// JPEG headers can sit behind large EXIF blocks; this bounds the work per image.
constexpr std::size_t kMaxHeaderBytes = 96 * 1024;

std::uint32_t be16(const std::string& b, std::size_t i) {
  return (static_cast<std::uint8_t>(b[i]) << 8) | static_cast<std::uint8_t>(b[i + 1]);
}
std::uint32_t le16(const std::string& b, std::size_t i) {
  return static_cast<std::uint8_t>(b[i]) | (static_cast<std::uint8_t>(b[i + 1]) << 8);
}
std::uint32_t le24(const std::string& b, std::size_t i) {
  return le16(b, i) | (static_cast<std::uint8_t>(b[i + 2]) << 16);
}
std::uint32_t be32(const std::string& b, std::size_t i) {
  return (be16(b, i) << 16) | be16(b, i + 2);
}

std::optional<ImageSize> png_size(const std::string& b) {
  if (b.size() < 24 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || b.compare(12, 4, "IHDR") != 0) {
    return std::nullopt;
  }
  return ImageSize{be32(b, 16), be32(b, 20)};
}

std::optional<ImageSize> gif_size(const std::string& b) {
  if (b.size() < 10 || (b.compare(0, 6, "GIF87a") != 0 && b.compare(0, 6, "GIF89a") != 0)) {
    return std::nullopt;
  }
  return ImageSize{le16(b, 6), le16(b, 8)};
}

std::optional<ImageSize> webp_size(const std::string& b) {
  if (b.size() < 30 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WEBP") != 0) {
    return std::nullopt;
  }
  if (b.compare(12, 4, "VP8 ") == 0) return ImageSize{le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF};
  if (b.compare(12, 4, "VP8L") == 0) {
    const std::uint32_t bits = le16(b, 21) | (le16(b, 23) << 16);
    return ImageSize{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
  }
  if (b.compare(12, 4, "VP8X") == 0) return ImageSize{le24(b, 24) + 1, le24(b, 27) + 1};
  return std::nullopt;
}

std::optional<ImageSize> jpeg_size(const std::string& b) {
  if (b.size() < 4 || static_cast<std::uint8_t>(b[0]) != 0xFF ||
      static_cast<std::uint8_t>(b[1]) != 0xD8) {
    return std::nullopt;
  }
  std::size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<std::uint8_t>(b[i]) != 0xFF) return std::nullopt;
    const std::uint8_t marker = static_cast<std::uint8_t>(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    const std::uint32_t len = be16(b, i + 2);
    // Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return std::nullopt;
      return ImageSize{be16(b, i + 7), be16(b, i + 5)};
    }
    if (len < 2) return std::nullopt;
    i += 2 + len;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageSize> image_size_from_url(std::string_view url) {
  if (!url.starts_with("data:")) return std::nullopt;
  const std::size_t comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  const std::string_view meta = url.substr(5, comma - 5);
  if (!meta.ends_with(";base64")) return std::nullopt;
  std::string_view data = url.substr(comma + 1);
  const std::size_t max_chars = kMaxHeaderBytes / 3 * 4;
  data = data.substr(0, std::min(data.size(), max_chars) / 4 * 4);
  std::string bytes;
  if (!decode_base64(data, bytes)) return std::nullopt;
  for (auto* parse : {png_size, jpeg_size, gif_size, webp_size}) {
    if (auto size = parse(bytes)) {
      if (size->width == 0 || size->height == 0) return std::nullopt;
      return size;
    }
  }
  return std::nullopt;
}

ImageTokens image_prompt_tokens(std::optional<ImageSize> size, std::string_view detail,
                                std::string_view model) {
  const bool mini = model.starts_with("gpt-4o-mini");
  const std::size_t base = mini ? 2833 : 85;
  const std::size_t per_tile = mini ? 5667 : 170;
  if (detail == "low" || !size) return {base, false};
  double w = size->width;
  double h = size->height;
  if (w > 2048 || h > 2048) {
    const double scale = 2048 / std::max(w, h);
    w = std::floor(w * scale);
    h = std::floor(h * scale);
  }
  if (std::min(w, h) > 768) {
    const double scale = 768 / std::min(w, h);
    w = std::floor(w * scale);
    h = std::floor(h * scale);
  }
  const auto tiles = static_cast<std::size_t>(std::ceil(w / 512) * std::ceil(h / 512));
  return {base + per_tile * tiles, true};
}

}  // namespace sluice::tokenizer
