#pragma once

// hubd's log lines: one line per record, on stdout (under systemd, journald
// takes stdout), in one of two forms:
//
//   logfmt  ts=2026-11-30T09:49:56.157Z level=info event=ready listen=127.0.0.1:7400 ...
//   json    {"ts":"2026-11-30T09:49:56.157Z","level":"info","event":"ready","listen":"127.0.0.1:7400",...}
//
// `ts` is UTC with milliseconds; `level` is spdlog's name (trace, debug,
// info, warning, error, critical). Messages are written as logfmt
// `key=value` pairs, values from outside passed through LogValue(); the
// JSON form makes each pair a member whose value is a JSON string (always a
// string, so a field never changes type from one line to the next; a quoted
// value is unquoted and its escapes decoded). Text of a message that is not
// a pair is kept in a "msg" member. Control characters never reach a line in
// either form (logfmt: \xNN; JSON: \u00XX, C1 included), and JSON lines are
// always valid UTF-8.
//
// Thread safety: the functions are pure; a formatter belongs to one sink
// (spdlog's sinks lock around it).

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

namespace hub::util {

enum class LogFormat { kLogfmt, kJson };

// "logfmt" or "json"; false for anything else.
bool ParseLogFormat(std::string_view name, LogFormat* out);

// spdlog's pattern formatter, UTC, with the message written as above.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// Makes spdlog's default logger write `format` lines to stdout, flushed per
// line. Call before other threads log.
void UseLogFormat(LogFormat format);

// The pieces, for the formatter and its tests. Both append to *out.
// `message` with control characters as \xNN (one line, whatever it holds).
void AppendLogfmtMessage(std::string_view message, std::string* out);
// `message`'s pairs as JSON members, each preceded by a comma:
// `,"event":"ready","listen":"127.0.0.1:7400"`.
void AppendJsonMembers(std::string_view message, std::string* out);

}  // namespace hub::util
