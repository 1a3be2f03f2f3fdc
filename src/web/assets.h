#pragma once

// The supervisor's web page (web/ in the source tree), built into hubd: the
// files are turned into byte arrays at build time (cmake/embed_web.cmake
// writes gen/web/assets.cc), so the page needs nothing beside the binary
// and nothing from the internet.
//
// Thread safety: the table is constant data; FindAsset may be called from
// any thread.

#include <optional>
#include <string_view>

namespace hub::web {

struct Asset {
  std::string_view content;       // the file's bytes; static storage
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
};

// `path` is relative to web/ ("index.html", "js/main.js"); no leading slash,
// no "." or ".." segments. nullopt when no such file was built in.
std::optional<Asset> FindAsset(std::string_view path);

}  // namespace hub::web
