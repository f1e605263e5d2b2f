// probe/core/text_safety.hpp — text that came from outside (a server's reason phrase, a DNS
// answer, a capture, a CSV field, the command line) made safe to print.
//
// On a terminal: control characters and bytes that are not UTF-8 are written as visible
// escapes, so a server cannot move the cursor, retitle the window or clear the screen
// through our report (ESC sequences), nor reorder what the reader sees (Unicode bidi
// controls). In JSON: bytes that are not UTF-8 become U+FFFD instead of making the whole
// document fail; control characters are JSON escapes anyway.
//
// Every text writer passes every string it did not write itself through printable();
// every JSON writer dumps through json_text().
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace probe {

// Length of the well-formed UTF-8 sequence (RFC 3629 §4: no overlong forms, no
// surrogates, nothing above U+10FFFF) that starts at s[i]; 0 when s[i] starts none.
// 1 for ASCII.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;

// `s` for one line of text output: C0 controls, DEL and C1 controls (U+0080–U+009F),
// Unicode bidi controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) and bytes that
// are not UTF-8 become visible escapes — "\r", "\n", "\t", "\x1b", "\xe8", "\u202e" —
// everything else (valid UTF-8 text) stays as it is.
std::string printable(std::string_view s);

// The same for text of several lines (a SIP message in --trace): LF, CRLF and TAB stay.
std::string printable_lines(std::string_view s);

// True when printable(s) == s (nothing to escape).
bool is_printable(std::string_view s) noexcept;

// The JSON document as text, `indent` as nlohmann::json::dump takes it; bytes that are not
// UTF-8 in any string become U+FFFD (error_handler_t::replace) instead of throwing.
std::string json_text(const nlohmann::json& j, int indent = 2);

}  // namespace probe
